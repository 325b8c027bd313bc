// Push sign-in page: polls the status URL the page names in data-status-url and finishes the sign-in
// once the phone approved it. Loaded with <script src defer>; no inline script (the CSP forbids it).
(() => {
  // The server holds each status request until the phone answers (up to 25 s), so the page learns
  // of an approval at once; the pause only spaces out the next request after a timeout or an error.
  const POLL_MS = 500;
  const LIFETIME_MS = 5 * 60 * 1000;
  const MESSAGES = {
    denied: 'The sign-in was denied on your phone. Start over to try again.',
    expired: 'The request expired before it was approved. Start over to try again.',
    invalid: 'This sign-in request is no longer valid. Start over to try again.',
  };

  const form = document.getElementById('push-finish');
  const alertRegion = document.getElementById('push-alert');
  const statusRegion = document.getElementById('push-status');
  const statusUrl = form?.dataset.statusUrl;
  if (!form || !alertRegion || !statusUrl) return;
  // A page in another language gives its texts as data-msg-* on the form; English otherwise.
  for (const key of Object.keys(MESSAGES)) {
    const text = form.dataset[`msg${key[0].toUpperCase()}${key.slice(1)}`];
    if (text) MESSAGES[key] = text;
  }
  const approvedText = form.dataset.msgApproved || 'Approved. Signing you in…';

  const deadline = Date.now() + LIFETIME_MS;
  let stopped = false;

  function stop(message) {
    stopped = true;
    if (statusRegion) statusRegion.hidden = true;
    alertRegion.textContent = message;
    alertRegion.hidden = false;
  }

  function finish() {
    stopped = true;
    if (statusRegion) statusRegion.textContent = approvedText;
    form.submit();
  }

  async function poll() {
    if (stopped) return;
    if (Date.now() >= deadline) {
      stop(MESSAGES.expired);
      return;
    }
    try {
      const response = await fetch(statusUrl, {
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { accept: 'application/json' },
      });
      if (response.ok) {
        const body = await response.json();
        const state = body?.state;
        if (state === 'approved') return finish();
        if (state === 'denied' || state === 'expired') return stop(MESSAGES[state]);
      } else if (response.status < 500) {
        // The gateway no longer knows this request (session gone, bad token): polling cannot help.
        return stop(MESSAGES.invalid);
      }
    } catch {
      // A network blip or a body that is not JSON: try again on the next tick until the deadline.
    }
    setTimeout(poll, POLL_MS);
  }

  setTimeout(poll, POLL_MS);
})();
