// Password (and later PIN and answer) hashing with scrypt, in a self-describing format so the cost can
// be raised later without invalidating existing hashes: $scrypt$ln=15,r=8,p=1$<salt>$<hash> (base64).
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const DEFAULT = { ln: 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const FORMAT =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

interface Params {
  ln: number;
  r: number;
  p: number;
}

function derive(secret: string, salt: Buffer, params: Params, length: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  // scrypt needs 128·N·r bytes; leave headroom over Node's 32 MiB default.
  const maxmem = 256 * N * params.r;
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, length, { N, r: params.r, p: params.p, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, params: Params = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params, KEY_LENGTH);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function isPasswordHash(encoded: string): boolean {
  return FORMAT.test(encoded);
}

/** False for a wrong password and for a malformed hash alike; never throws on user input. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const match = FORMAT.exec(encoded);
  if (!match) return false;
  const [, ln, r, p, salt, hash] = match;
  const params = { ln: Number(ln), r: Number(r), p: Number(p) };
  if (params.ln < 10 || params.ln > 20) return false;
  const expected = Buffer.from(hash ?? '', 'base64');
  if (expected.length < 16) return false;
  const actual = await derive(password, Buffer.from(salt ?? '', 'base64'), params, expected.length);
  return timingSafeEqual(actual, expected);
}

/** A hash of nothing in particular, verified against for unknown users so they cost the same time. */
let dummy: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}
