// The accounts on this device, in IndexedDB: the only storage that keeps CryptoKey objects as they
// are, so the non-extractable keys stay usable after a reload without ever being serialised.

const DB_NAME = 'mfa-authenticator';
const STORE = 'accounts';

let opening;

function openDb() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'deviceId' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  // A failed open must not be cached forever: the next call tries again.
  opening.catch(() => {
    opening = undefined;
  });
  return opening;
}

async function run(mode, action) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = action(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

/** Oldest first, so accounts keep their place on screen. */
export async function listAccounts() {
  const accounts = await run('readonly', (store) => store.getAll());
  return accounts.sort((a, b) => a.createdAt - b.createdAt);
}

export const saveAccount = (account) => run('readwrite', (store) => store.put(account));

export const deleteAccount = (deviceId) => run('readwrite', (store) => store.delete(deviceId));
