// The web authenticator's entry point: checks the browser can do the cryptography, registers the
// service worker, and shows either the activation form or the accounts with their requests.
import { renderAccounts, tickAccounts } from './app-accounts.js';
import { showActivateView } from './app-activate.js';
import { startPolling } from './app-poll.js';
import { setupPush } from './app-push.js';
import { dropAccountRequests, showRequests, tickRequests } from './app-requests.js';
import { listAccounts } from './app-store.js';

const HOME = '/mobile/app/';

const $ = (id) => document.getElementById(id);

/** deviceId → poller of the accounts still registered on the server. */
const pollers = new Map();

function fatal(message) {
  const error = $('app-error');
  error.textContent = message;
  error.hidden = false;
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker
    .register('/mobile/app/sw.js', { scope: HOME, type: 'classic', updateViaCache: 'none' })
    .catch(() => undefined);
}

/** Polls for each live account, and stops for the ones that went away. */
function syncPollers(accounts) {
  const live = new Map(accounts.filter((a) => !a.revoked).map((a) => [a.deviceId, a]));
  for (const [deviceId, poller] of pollers) {
    if (live.has(deviceId)) continue;
    poller.stop();
    pollers.delete(deviceId);
    dropAccountRequests(deviceId);
  }
  for (const [deviceId, account] of live) {
    if (pollers.has(deviceId)) continue;
    const onRequests = (requests, serverTime) => showRequests(account, requests, serverTime);
    pollers.set(deviceId, startPolling(account, { onRequests, onRevoked: () => revoked(account) }));
  }
}

/**
 * An administrator removed the device. Kept in memory only: if the 401 had another cause (a phone
 * clock far off), the next start of the app tries once more instead of giving up for good.
 */
const revokedIds = new Set();

function revoked(account) {
  pollers.delete(account.deviceId);
  revokedIds.add(account.deviceId);
  dropAccountRequests(account.deviceId);
  showMain().catch(failedToLoad);
}

async function showMain() {
  const accounts = (await listAccounts()).map((account) =>
    revokedIds.has(account.deviceId) ? { ...account, revoked: true } : account,
  );
  $('main-view').hidden = false;
  $('requests-section').hidden = !accounts.some((account) => !account.revoked);
  renderAccounts(accounts, () => showMain().catch(failedToLoad));
  syncPollers(accounts);
  await setupPush(accounts).catch(() => undefined);
}

function failedToLoad(error) {
  fatal(`The accounts of this phone could not be read: ${error?.message ?? error}`);
}

function activated(account, pinRequired) {
  $('activate-view').hidden = true;
  const note = $('activated');
  note.textContent = `This phone is activated for ${account.username}.${
    pinRequired ? ' Sign-ins will also ask for your PIN.' : ''
  }`;
  note.hidden = false;
  // The code is spent: a reload must show the accounts, not post it again.
  history.replaceState(null, '', HOME);
  showMain().catch(failedToLoad);
}

/** Ticks just after each full second, so countdowns and codes change with the clock. */
function tick() {
  const now = Date.now();
  tickAccounts(now);
  tickRequests(now);
  setTimeout(tick, 1000 - (now % 1000) + 20);
}

async function boot() {
  if (!window.isSecureContext || !globalThis.crypto?.subtle)
    return fatal('This page must be opened over HTTPS: the browser only allows its cryptography there.');
  if (!('indexedDB' in window)) return fatal('This browser cannot store accounts (IndexedDB is missing).');
  registerServiceWorker();
  // The service worker's scope ends in a slash; /mobile/app alone would stay outside it (offline).
  if (location.pathname === '/mobile/app') history.replaceState(null, '', HOME + location.search);
  tick();
  document.addEventListener('visibilitychange', () => document.hidden || tickAccounts());
  if (location.pathname.endsWith('/activate')) {
    const accounts = await listAccounts().catch(() => []);
    showActivateView(accounts.length > 0, activated);
  } else await showMain();
}

boot().catch(failedToLoad);
