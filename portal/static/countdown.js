// The one-time bypass page: counts down to the bypass's expiry (data-expires, epoch milliseconds).
(() => {
  const element = document.getElementById('bypass-countdown');
  if (!element) return;
  const expires = Number(element.dataset.expires);
  if (!Number.isFinite(expires)) return;
  const tick = () => {
    const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    if (left === 0) {
      element.textContent = element.dataset.expiredText || '0:00';
      clearInterval(timer);
      return;
    }
    element.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  };
  const timer = setInterval(tick, 1000);
  tick();
})();
