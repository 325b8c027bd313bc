// The authenticator's cryptography, all in WebCrypto: the device key pair, compact JWS (ES256)
// for the server, and TOTP codes (RFC 6238 over RFC 4226) that work without a network.

const encoder = new TextEncoder();

/** @param {Uint8Array} bytes */
export function base64url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @param {string} text */
export function fromBase64url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, as authenticator secrets are written: any case, spaces and padding ignored. */
export function fromBase32(text) {
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = BASE32.indexOf(char);
    if (value < 0) throw new Error('The secret is not valid base32');
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

export function randomToken(size = 16) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

// ---------------------------------------------------------------- device key and JWS

/** The private key can sign but never leave the browser: not even this script can export it. */
export function generateDeviceKey() {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

/** Only the public members, so nothing else a browser might add to a JWK reaches the server. */
export async function publicJwk(publicKey) {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
  return { kty, crv, x, y };
}

/** WebCrypto's ECDSA signature is already the raw r||s that ES256 expects, so no DER step. */
export async function signJws(privateKey, header, payload) {
  const input = `${base64url(encoder.encode(JSON.stringify(header)))}.${base64url(
    encoder.encode(JSON.stringify(payload)),
  )}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    privateKey,
    encoder.encode(input),
  );
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

export const unixSeconds = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------- TOTP

const HASHES = { SHA1: 'SHA-1', SHA256: 'SHA-256', SHA512: 'SHA-512' };

/** Non-extractable, so the seed cannot be read back out of IndexedDB once imported. */
export function importTotpKey(secretBase32, algorithm) {
  const hash = HASHES[algorithm];
  if (!hash) throw new Error(`Unsupported TOTP algorithm ${algorithm}`);
  return crypto.subtle.importKey('raw', fromBase32(secretBase32), { name: 'HMAC', hash }, false, ['sign']);
}

export const timeStep = (period, now = Date.now()) => Math.floor(now / 1000 / period);

/** RFC 4226 HOTP for the step: HMAC over the 8-byte big-endian counter, dynamic truncation. */
export async function hotp(key, counter, digits) {
  const message = new DataView(new ArrayBuffer(8));
  message.setUint32(0, Math.floor(counter / 2 ** 32));
  message.setUint32(4, counter >>> 0);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, message.buffer));
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = new DataView(mac.buffer).getUint32(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

export function totp(account, now = Date.now()) {
  return hotp(account.totpKey, timeStep(account.period, now), account.digits);
}
