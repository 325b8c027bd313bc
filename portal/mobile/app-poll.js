// One long-poll loop per account for its pending sign-in requests: the next call starts as soon as
// an answer arrives, failures back off from 2 s to 30 s, and a 401 (device removed by an
// administrator) ends the loop for good.
import { ApiError, waitForRequests } from './app-api.js';

const FIRST_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 30_000;
/** The server holds a call for ~25 s; past this the connection is presumed dead. */
const CALL_TIMEOUT_MS = 40_000;
/**
 * While a request is pending the server answers at once with it again; without this pause the
 * loop would hammer it until the request is answered or expires.
 */
const REPEAT_PAUSE_MS = 3_000;

const wakers = new Set();
// Coming back online should not wait out a 30 s back-off.
addEventListener('online', () => {
  for (const wake of wakers) wake();
});

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      wakers.delete(done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    wakers.add(done);
    signal.addEventListener('abort', done);
  });
}

function withTimeout(signal) {
  if (typeof AbortSignal.any !== 'function') return signal;
  return AbortSignal.any([signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]);
}

/**
 * Polls until `stop()` is called. `onRequests(requests, serverTime)` returns true when any of
 * them was new to the page; `onRevoked()` is called once on a 401.
 * @returns {{ stop(): void }}
 */
export function startPolling(account, { onRequests, onRevoked }) {
  const controller = new AbortController();
  const { signal } = controller;
  (async () => {
    let backoff = FIRST_BACKOFF_MS;
    while (!signal.aborted) {
      try {
        const answer = await waitForRequests(account, withTimeout(signal));
        backoff = FIRST_BACKOFF_MS;
        const requests = Array.isArray(answer.body?.requests) ? answer.body.requests : [];
        const anyNew = onRequests(requests, answer.serverTime);
        if (requests.length > 0 && !anyNew) await sleep(REPEAT_PAUSE_MS, signal);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) {
          onRevoked();
          return;
        }
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  })();
  return { stop: () => controller.abort() };
}
