// Hashing of the secrets users choose in the portal (PINs, security answers): argon2id with a pepper
// derived from the store key, so a copy of the database alone is not enough to guess them offline.
// Self-describing PHC format: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded base64).
import { argon2, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Random } from '../ports.ts';
import { systemRandom } from '../random.ts';

export interface SecretHasher {
  hash(secret: string): Promise<string>;
  /** False for a wrong secret and for a malformed or foreign hash alike; never throws on its input. */
  verify(secret: string, encoded: string): Promise<boolean>;
}

interface Params {
  memory: number;
  passes: number;
  parallelism: number;
}

/** OWASP's first argon2id profile: 19 MiB, 2 passes, 1 lane (about 50 ms on a small server). */
const DEFAULT: Params = { memory: 19_456, passes: 2, parallelism: 1 };
const SALT_BYTES = 16;
const TAG_BYTES = 32;
/** What a stored hash may ask for: enough to raise the cost later, bounded so a bad row cannot exhaust memory. */
const LIMITS = { memory: [1024, 262_144], passes: [1, 10], parallelism: [1, 4] } as const;
const FORMAT =
  /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{22,})$/;

const PEPPER_INFO = 'mfa-gateway pepper v1';

/** The pepper is derived from the store key (HKDF-SHA256), so it is never the encryption key itself. */
export function derivePepper(storeKey: Uint8Array): Uint8Array {
  if (storeKey.length < 16) throw new Error('derivePepper: the store key must be at least 16 bytes');
  return new Uint8Array(hkdfSync('sha256', storeKey, new Uint8Array(0), PEPPER_INFO, 32));
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64').replace(/=+$/, '');

function derive(secret: string, salt: Uint8Array, pepper: Uint8Array, params: Params, length: number) {
  return new Promise<Buffer>((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: Buffer.from(secret, 'utf8'),
        nonce: salt,
        parallelism: params.parallelism,
        tagLength: length,
        memory: params.memory,
        passes: params.passes,
        secret: pepper,
      },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

function within(value: number, [min, max]: readonly [number, number]): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function parse(encoded: string): { params: Params; salt: Buffer; hash: Buffer } | undefined {
  const match = FORMAT.exec(encoded);
  if (!match) return undefined;
  const [, m, t, p, salt = '', hash = ''] = match;
  const params = { memory: Number(m), passes: Number(t), parallelism: Number(p) };
  if (!within(params.memory, LIMITS.memory) || params.memory < 8 * params.parallelism) return undefined;
  if (!within(params.passes, LIMITS.passes) || !within(params.parallelism, LIMITS.parallelism))
    return undefined;
  const saltBytes = Buffer.from(salt, 'base64');
  const hashBytes = Buffer.from(hash, 'base64');
  // Only the canonical spelling: base64 with other trailing bits would decode to the same bytes.
  if (b64(saltBytes) !== salt || b64(hashBytes) !== hash) return undefined;
  if (saltBytes.length < 8 || hashBytes.length < 16 || hashBytes.length > 64) return undefined;
  return { params, salt: saltBytes, hash: hashBytes };
}

export function createSecretHasher(pepper: Uint8Array, random: Random = systemRandom): SecretHasher {
  if (pepper.length < 16) throw new Error('createSecretHasher: the pepper must be at least 16 bytes');
  const key = new Uint8Array(pepper);
  return {
    async hash(secret) {
      const salt = random.bytes(SALT_BYTES);
      const tag = await derive(secret, salt, key, DEFAULT, TAG_BYTES);
      const { memory, passes, parallelism } = DEFAULT;
      return `$argon2id$v=19$m=${memory},t=${passes},p=${parallelism}$${b64(salt)}$${b64(tag)}`;
    },

    async verify(secret, encoded) {
      if (typeof secret !== 'string' || typeof encoded !== 'string') return false;
      const parsed = parse(encoded);
      if (!parsed) return false;
      try {
        const actual = await derive(secret, parsed.salt, key, parsed.params, parsed.hash.length);
        return timingSafeEqual(actual, parsed.hash);
      } catch {
        return false;
      }
    },
  };
}
