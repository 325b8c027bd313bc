// Optional Web Push: offered only when the server has a VAPID key and the browser can subscribe,
// so a closed app still hears of a sign-in request. The long poll works without it.
import { savePushSubscription, vapidPublicKey } from './app-api.js';
import { base64url, fromBase64url } from './app-crypto.js';

const SCOPE = '/mobile/app/';
/** A service worker that never activates must not leave the button waiting forever. */
const READY_TIMEOUT_MS = 10_000;

const $ = (id) => document.getElementById(id);

/** What the button's click needs; set by each setupPush, so the listener is added only once. */
const state = { key: undefined, accounts: [], wired: false };

const supported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

function status(text) {
  $('notifications-status').textContent = text;
}

/** The current subscription, dropped when it was made for another server key. */
async function currentSubscription(key) {
  const registration = await navigator.serviceWorker.getRegistration(SCOPE);
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return undefined;
  const serverKey = subscription.options.applicationServerKey;
  if (serverKey && base64url(new Uint8Array(serverKey)) === key) return subscription;
  await subscription.unsubscribe();
  return undefined;
}

/**
 * The app's registration once its worker is active. Not `serviceWorker.ready`: that never settles
 * for a page first loaded at /mobile/app, which lies outside the /mobile/app/ scope.
 */
async function activeRegistration() {
  const registration = await navigator.serviceWorker.register('/mobile/app/sw.js', {
    scope: SCOPE,
    updateViaCache: 'none',
  });
  if (registration.active) return registration;
  const worker = registration.installing ?? registration.waiting;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('The app could not install its service worker.')),
      READY_TIMEOUT_MS,
    );
    worker?.addEventListener('statechange', () => {
      if (worker.state !== 'activated') return;
      clearTimeout(timer);
      resolve();
    });
  });
  return registration;
}

/** Every account of this phone tells the server the same endpoint. */
async function shareSubscription(subscription, accounts) {
  const results = await Promise.allSettled(accounts.map((a) => savePushSubscription(a, subscription)));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

async function enable() {
  const button = $('enable-notifications');
  button.disabled = true;
  try {
    if ((await Notification.requestPermission()) !== 'granted')
      return status('Notifications were not allowed. You can allow them in the browser settings.');
    const registration = await activeRegistration();
    const subscription =
      (await currentSubscription(state.key)) ??
      (await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: fromBase64url(state.key),
      }));
    await shareSubscription(subscription, state.accounts);
    button.hidden = true;
    status('Notifications are on.');
  } catch (error) {
    status(`Notifications could not be turned on. ${error?.message ?? ''}`.trim());
  } finally {
    button.disabled = false;
  }
}

/** Shows the offer, or the state it is in; refreshes the server's copy when already on. */
export async function setupPush(accounts) {
  const section = $('notifications');
  const active = accounts.filter((account) => !account.revoked);
  const key = supported() && active.length > 0 ? await vapidPublicKey().catch(() => undefined) : undefined;
  section.hidden = !key;
  if (!key) return;
  Object.assign(state, { key, accounts: active });
  if (!state.wired) $('enable-notifications').addEventListener('click', enable);
  state.wired = true;
  const existing = Notification.permission === 'granted' ? await currentSubscription(key) : undefined;
  $('enable-notifications').hidden = existing !== undefined || Notification.permission === 'denied';
  if (Notification.permission === 'denied')
    status('Notifications are blocked for this app in the browser settings.');
  else if (existing) {
    status('Notifications are on.');
    await shareSubscription(existing, active).catch(() => undefined);
  } else status('');
}
