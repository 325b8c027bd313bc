// The authenticator's service worker: keeps a copy of the app shell so offline codes work with no
// network (network first, so a fix reaches phones at once), never touches the API, and shows
// Web Push notifications of sign-in requests.
const CACHE = 'mfa-authenticator-v1';
const HOME = '/mobile/app/';
const SHELL = [
  '/mobile/app/',
  '/mobile/app/app.js',
  '/mobile/app/app-accounts.js',
  '/mobile/app/app-activate.js',
  '/mobile/app/app-api.js',
  '/mobile/app/app-crypto.js',
  '/mobile/app/app-poll.js',
  '/mobile/app/app-push.js',
  '/mobile/app/app-requests.js',
  '/mobile/app/app-store.js',
  '/mobile/app/app.css',
  '/mobile/app/manifest.webmanifest',
  '/mobile/app/icon.svg',
];
/** On a network that hangs rather than fails, fall back to the copy after this long. */
const NETWORK_TIMEOUT_MS = 5_000;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

/**
 * The cache key of a request the shell answers, or undefined to leave it to the network. Every
 * page of the app is the same shell, and keying it without the query keeps activation codes out
 * of the cache.
 */
function shellKey(request) {
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return undefined;
  if (request.mode === 'navigate' && url.pathname.startsWith(HOME)) return HOME;
  return SHELL.includes(url.pathname) ? url.pathname : undefined;
}

// A race rather than an abort signal: a navigation request cannot be re-made with other options
// in every browser.
const timeout = (ms) =>
  new Promise((_resolve, reject) => setTimeout(() => reject(new Error('network timeout')), ms));

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([fetch(request), timeout(NETWORK_TIMEOUT_MS)]);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const key = shellKey(event.request);
  if (key) event.respondWith(networkFirst(event.request, key));
});

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data?.json() ?? {};
  } catch {
    data = {};
  }
  const title = typeof data.title === 'string' ? data.title : 'Sign-in request';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof data.body === 'string' ? data.body : 'Open the authenticator to answer it.',
      icon: '/mobile/app/icon.svg',
      tag: typeof data.requestId === 'string' ? data.requestId : 'sign-in-request',
      requireInteraction: true,
    }),
  );
});

async function openApp() {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).pathname.startsWith('/mobile/app'));
  if (open) return open.focus();
  return self.clients.openWindow(HOME);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openApp());
});
