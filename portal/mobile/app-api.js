// The calls to the mobile API of the server (same origin, JSON). Device calls carry a fresh JWS
// signed by the device key, bound to the method and path, so a captured token is of little use.
import { publicJwk, randomToken, signJws, unixSeconds } from './app-crypto.js';

/** A JSON error answer of the server, or `network` when no answer arrived at all. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const NETWORK_MESSAGE = 'Could not reach the server. Check your connection and try again.';

export function deviceToken(account, method, path) {
  return signJws(
    account.privateKey,
    { alg: 'ES256', kid: account.deviceId, typ: 'mfa-device+jwt' },
    { htm: method, htu: path, iat: unixSeconds(), jti: randomToken(16) },
  );
}

async function readJson(response) {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One call: resolves to `{ status, body, serverTime }` for a 2xx answer and throws ApiError
 * otherwise. `serverTime` (from the Date header) lets request expiry survive a wrong phone clock.
 */
async function call(method, path, { query = '', body, account, signal } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (account) headers.authorization = `Device ${await deviceToken(account, method, path)}`;
  let response;
  try {
    response = await fetch(path + query, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      signal,
    });
  } catch (error) {
    if (signal?.aborted && error?.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }
  const json = await readJson(response);
  if (!response.ok) {
    const message = json?.message || `The server answered ${response.status}.`;
    throw new ApiError(response.status, json?.code ?? 'http', message);
  }
  const date = Date.parse(response.headers.get('date') ?? '');
  return { status: response.status, body: json, serverTime: Number.isNaN(date) ? undefined : date };
}

export async function activate(code, deviceName, publicKey) {
  const body = { code, deviceName, publicKey: await publicJwk(publicKey) };
  return (await call('POST', '/mobile/v1/activations', { body })).body;
}

export function waitForRequests(account, signal) {
  return call('GET', '/mobile/v1/requests', { query: '?wait=25', account, signal });
}

/** The answer is its own signed statement (bound to the request's nonce), so no Device header. */
export async function answerRequest(account, request, decision, number, pin) {
  const payload = { rid: request.id, decision, number, nonce: request.nonce, iat: unixSeconds() };
  if (pin !== undefined) payload.pin = pin;
  const answer = await signJws(
    account.privateKey,
    { alg: 'ES256', kid: account.deviceId, typ: 'mfa-answer+jwt' },
    payload,
  );
  const path = `/mobile/v1/requests/${encodeURIComponent(request.id)}/answer`;
  return (await call('POST', path, { body: { answer } })).body;
}

/** The server's VAPID key, or undefined when it does not send Web Push (404). */
export async function vapidPublicKey() {
  try {
    return (await call('GET', '/mobile/v1/push/vapid-public-key')).body?.publicKey;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

export async function savePushSubscription(account, subscription) {
  const { endpoint, keys } = subscription.toJSON();
  const body = { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
  await call('PUT', '/mobile/v1/devices/self/push-subscription', { body, account });
}

export async function removeDevice(account) {
  await call('DELETE', '/mobile/v1/devices/self', { account });
}
