// Web Push sender (RFC 8030) for waking the web authenticator, with no third-party push library:
// VAPID (RFC 8292) identifies us to the push service with an ES256 JWT signed by a key imported once,
// and the payload is encrypted for the browser alone (web-push-encryption.ts).
//
// Answers: 200/201/202 → 'sent'; 404/410 → 'gone' (the caller deletes the subscription). Anything else
// (400 bad request, 401/403 VAPID key refused, 413 too large, 429 rate limited, 5xx, a redirect) and
// network errors or timeouts reject with a plain Error naming the status. We do not report them as
// 'sent': that would hide a broken VAPID configuration while users wait for pushes that never come.
// The caller logs the error; the sign-in itself does not depend on the push arriving.
import { createECDH, generateKeyPairSync } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import type { PushMessage, PushSender, PushSubscriptionKeys } from '../core/ports.ts';
import type { ProviderLogger } from './provider-logger.ts';
import { decodeBase64Url, decodeP256PublicKey, encryptPayload } from './web-push-encryption.ts';

export interface WebPushOptions {
  /** Who runs this server, for the push service to contact: `mailto:` or `https:`. */
  subject: string;
  /** base64url uncompressed P-256 point (65 bytes). */
  publicKey: string;
  /** base64url private scalar d (32 bytes). */
  privateKey: string;
  /** Per push; default 10 s. */
  timeoutMs?: number;
  /** Also accept `http://127.0.0.1` and `http://[::1]` endpoints (tests only). */
  allowInsecureLoopback?: boolean;
  /** Unix milliseconds; defaults to the system clock. */
  now?: () => number;
}

/** RFC 8292 §2: the JWT must not live longer than 24 hours; we stay well under. */
const VAPID_LIFETIME_SECONDS = 12 * 60 * 60;

export function createWebPushSender(options: WebPushOptions, logger: ProviderLogger): PushSender {
  if (!/^(mailto:|https:)/.test(options.subject))
    throw new Error('web push subject must be a mailto: or https: URI');
  const { jwk, k } = vapidKey(options.publicKey, options.privateKey);
  const keyPromise = importJWK(jwk, 'ES256');
  // Invalid keys were refused above; this only keeps a rejection from going unhandled before the first send.
  keyPromise.catch(() => {});
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? Date.now;

  return {
    async send(subscription: PushSubscriptionKeys, message: PushMessage): Promise<'sent' | 'gone'> {
      const endpoint = parsePushEndpoint(subscription.endpoint, options.allowInsecureLoopback === true);
      if (endpoint === null) throw new Error('push endpoint refused: it must be an https URL');
      const uaPublic = decodeP256PublicKey(subscription.p256dh, 'p256dh');
      const plaintext = Buffer.from(
        JSON.stringify({ title: message.title, body: message.body, requestId: message.requestId }),
      );
      const body = encryptPayload(plaintext, uaPublic, decodeBase64Url(subscription.auth));

      const jwt = await new SignJWT({})
        .setProtectedHeader({ typ: 'JWT', alg: 'ES256' })
        .setAudience(endpoint.origin)
        .setExpirationTime(Math.floor(now() / 1000) + VAPID_LIFETIME_SECONDS)
        .setSubject(options.subject)
        .sign(await keyPromise);

      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          authorization: `vapid t=${jwt}, k=${k}`,
          'content-encoding': 'aes128gcm',
          'content-type': 'application/octet-stream',
          ttl: String(Math.max(0, Math.floor(message.ttlSeconds))),
          urgency: 'high',
        },
        body,
        // A redirect would carry our VAPID token to an origin it was not made for.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const status = response.status;
      if (status === 200 || status === 201 || status === 202) {
        await response.body?.cancel();
        return 'sent';
      }
      if (status === 404 || status === 410) {
        await response.body?.cancel();
        logger.info({ origin: endpoint.origin, status }, 'push subscription gone');
        return 'gone';
      }
      const reason = (await response.text()).slice(0, 200).replace(/\s+/g, ' ');
      throw new Error(`push service ${endpoint.origin} answered ${status}: ${reason}`, {
        cause: { status },
      });
    },
  };
}

/**
 * The endpoint as a URL when we may post to it: https only (no credentials in it), or plain http to a
 * loopback address when explicitly allowed. Registration can use it to refuse a subscription early.
 */
export function parsePushEndpoint(endpoint: string, allowInsecureLoopback = false): URL | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return null;
  }
  if (url.username !== '' || url.password !== '') return null;
  if (url.protocol === 'https:') return url;
  const loopback = url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  return allowInsecureLoopback && url.protocol === 'http:' && loopback ? url : null;
}

/** A new VAPID key pair in the forms the options take; the public key is also what browsers subscribe with. */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  if (jwk.x === undefined || jwk.y === undefined || jwk.d === undefined)
    throw new Error('P-256 JWK incomplete');
  const point = Buffer.concat([
    Buffer.of(0x04),
    Buffer.from(jwk.x, 'base64url'),
    Buffer.from(jwk.y, 'base64url'),
  ]);
  return { publicKey: point.toString('base64url'), privateKey: jwk.d };
}

/**
 * Checks that the two halves belong together (a mismatch would only show as 401s later), builds the JWK,
 * and gives the `k` parameter: the point in base64url without padding (RFC 8292 §3.2), however configured.
 */
function vapidKey(publicKey: string, privateKey: string) {
  const point = decodeP256PublicKey(publicKey, 'VAPID public key');
  const d = decodeBase64Url(privateKey);
  if (d.length !== 32) throw new Error('VAPID private key must be a 32-byte P-256 scalar');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  if (!ecdh.getPublicKey().equals(point)) throw new Error('VAPID public and private keys do not match');
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33, 65).toString('base64url'),
    d: d.toString('base64url'),
  };
  return { jwk, k: point.toString('base64url') };
}
