// Encryption of secrets at rest (TOTP seeds, later device keys): AES-256-GCM, each value bound to
// its row through the associated data, so a sealed value copied to another row does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export interface SecretBox {
  /** Returns `v1.<base64url(iv)>.<base64url(ciphertext || tag)>`. */
  seal(plain: Uint8Array, aad: string): string;
  /** Throws when the value was altered, sealed with another key, or sealed for another row. */
  open(sealed: string, aad: string): Uint8Array;
}

const KEY_FORMAT = `the encryption key must be ${KEY_BYTES} bytes, given as base64, base64url or ${KEY_BYTES * 2} hex characters`;

/** Reads `store.encryptionKey`. The message never contains the key text. */
export function parseEncryptionKey(text: string): Uint8Array {
  const trimmed = text.trim();
  // Hex first: 64 hex characters are also valid base64 (of 48 bytes).
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return new Uint8Array(Buffer.from(trimmed, 'hex'));
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) throw new Error(`${KEY_FORMAT}; it is neither`);
  // Node's base64 decoder also accepts the URL-safe alphabet.
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length !== KEY_BYTES) throw new Error(`${KEY_FORMAT}; it decodes to ${bytes.length} bytes`);
  return new Uint8Array(bytes);
}

function decryptionFailed(why: string): Error {
  return new Error(`decryption failed: ${why}`);
}

function decodePart(part: string | undefined, name: string): Buffer {
  if (part === undefined || !BASE64URL.test(part)) throw decryptionFailed(`malformed ${name}`);
  return Buffer.from(part, 'base64url');
}

export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.length !== KEY_BYTES) throw new Error(`${KEY_FORMAT}; got ${key.length} bytes`);
  const keyBuffer = Buffer.from(key);
  return {
    seal(plain, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keyBuffer, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed, aad) {
      const parts = sealed.split('.');
      if (parts.length !== 3 || parts[0] !== VERSION) throw decryptionFailed('not a v1 sealed value');
      const iv = decodePart(parts[1], 'iv');
      const body = decodePart(parts[2], 'ciphertext');
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw decryptionFailed('truncated value');
      const decipher = createDecipheriv('aes-256-gcm', keyBuffer, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        const plain = Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return new Uint8Array(plain);
      } catch {
        throw decryptionFailed('wrong key, altered value, or a value sealed for another row');
      }
    },
  };
}
