// Web Push message encryption (RFC 8291) in the `aes128gcm` content coding (RFC 8188), on node:crypto.
// Only the browser that made the subscription can read a push: the payload is sealed with a key agreed
// between a fresh ephemeral P-256 key and the browser's `p256dh` key, mixed with its `auth` secret.
// Salt and ephemeral key are injectable so the RFC 8291 Appendix A vector can be checked byte for byte.
import { createCipheriv, createECDH, hkdfSync, randomBytes } from 'node:crypto';

/** The record size we announce; one record carries the whole message. */
export const RECORD_SIZE = 4096;
/** Push services must accept 4096 body bytes: minus the 86-byte header, the tag and the delimiter. */
export const MAX_PLAINTEXT_BYTES = 4096 - 86 - 16 - 1;

export interface EncryptOptions {
  /** 16 bytes; random by default. */
  salt?: Uint8Array;
  /** The application server's ephemeral private scalar (32 bytes); a fresh key by default. */
  ephemeralPrivateKey?: Uint8Array;
}

/** Decodes a base64url P-256 public key and checks it is an uncompressed point (0x04 || x || y). */
export function decodeP256PublicKey(value: string, what: string): Buffer {
  const bytes = decodeBase64Url(value);
  if (bytes.length !== 65 || bytes[0] !== 0x04)
    throw new Error(`${what} must be an uncompressed P-256 point`);
  return bytes;
}

export function decodeBase64Url(value: string): Buffer {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(value)) throw new Error('not base64url');
  return Buffer.from(value, 'base64url');
}

/**
 * The request body for one push: salt(16) || rs(4) || idlen(1) = 65 || as_public(65) || one AES-128-GCM
 * record of `plaintext || 0x02`. `uaPublic` is the subscription's p256dh (65 bytes), `authSecret` its
 * 16-byte auth.
 */
export function encryptPayload(
  plaintext: Uint8Array,
  uaPublic: Uint8Array,
  authSecret: Uint8Array,
  options: EncryptOptions = {},
): Buffer {
  if (plaintext.length > MAX_PLAINTEXT_BYTES)
    throw new Error(`push payload over ${MAX_PLAINTEXT_BYTES} bytes`);
  if (uaPublic.length !== 65 || uaPublic[0] !== 0x04)
    throw new Error('p256dh must be an uncompressed P-256 point');
  if (authSecret.length !== 16) throw new Error('auth secret must be 16 bytes');
  const salt = options.salt ?? randomBytes(16);
  if (salt.length !== 16) throw new Error('salt must be 16 bytes');

  const ephemeral = createECDH('prime256v1');
  if (options.ephemeralPrivateKey === undefined) ephemeral.generateKeys();
  else ephemeral.setPrivateKey(options.ephemeralPrivateKey);
  const asPublic = ephemeral.getPublicKey();
  // Throws when the browser's key is not a point on the curve.
  const ecdhSecret = ephemeral.computeSecret(uaPublic);

  // RFC 8291 §3.4: IKM = HKDF(salt = auth_secret, ikm = ecdh_secret, "WebPush: info" 0x00 ua_public as_public, 32).
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = hkdf(ecdhSecret, authSecret, keyInfo, 32);
  // RFC 8188 §2.2 and §2.3, with the message salt.
  const cek = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);

  const cipher = createCipheriv('aes-128-gcm', cek, nonce);
  // 0x02: the padding delimiter of the last (and only) record, with no padding after it.
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.update(Buffer.of(0x02)), cipher.final()]);

  const header = Buffer.alloc(21);
  Buffer.from(salt).copy(header, 0);
  header.writeUInt32BE(RECORD_SIZE, 16);
  header.writeUInt8(asPublic.length, 20);
  return Buffer.concat([header, asPublic, sealed, cipher.getAuthTag()]);
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}
