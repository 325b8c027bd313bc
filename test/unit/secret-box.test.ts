// The secret box: AES-256-GCM sealing bound to a row, and parsing of the configured key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createSecretBox, parseEncryptionKey } from '../../src/store/secret-box.ts';

const key = new Uint8Array(randomBytes(32));
const plain = new TextEncoder().encode('12345678901234567890');

test('a sealed value opens with the same key and associated data', () => {
  const box = createSecretBox(key);
  const sealed = box.seal(plain, 'factors:f1:u1');
  assert.match(sealed, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(box.open(sealed, 'factors:f1:u1'), plain);
});

test('sealing twice gives different values (fresh IV)', () => {
  const box = createSecretBox(key);
  assert.notEqual(box.seal(plain, 'a'), box.seal(plain, 'a'));
});

test('a value sealed for another row does not open', () => {
  const box = createSecretBox(key);
  const sealed = box.seal(plain, 'factors:f1:u1');
  assert.throws(() => box.open(sealed, 'factors:f2:u1'), /decryption failed/);
  assert.throws(() => box.open(sealed, 'factors:f1:u2'), /decryption failed/);
});

test('a tampered value does not open', () => {
  const box = createSecretBox(key);
  const sealed = box.seal(plain, 'aad');
  const [version, iv, body] = sealed.split('.') as [string, string, string];
  const flipped = Buffer.from(body, 'base64url');
  flipped[0] = (flipped[0] ?? 0) ^ 1;
  assert.throws(
    () => box.open(`${version}.${iv}.${flipped.toString('base64url')}`, 'aad'),
    /decryption failed/,
  );
  const otherIv = Buffer.from(iv, 'base64url');
  otherIv[0] = (otherIv[0] ?? 0) ^ 1;
  assert.throws(
    () => box.open(`${version}.${otherIv.toString('base64url')}.${body}`, 'aad'),
    /decryption failed/,
  );
  assert.throws(() => box.open(`${version}.${iv}.${body.slice(0, 10)}`, 'aad'), /decryption failed/);
  assert.throws(() => box.open(`v2.${iv}.${body}`, 'aad'), /decryption failed/);
  assert.throws(() => box.open('not sealed', 'aad'), /decryption failed/);
});

test('a value sealed with another key does not open', () => {
  const sealed = createSecretBox(key).seal(plain, 'aad');
  assert.throws(
    () => createSecretBox(new Uint8Array(randomBytes(32))).open(sealed, 'aad'),
    /decryption failed/,
  );
});

test('the key parses from base64, base64url and hex', () => {
  const raw = Buffer.from(randomBytes(32));
  assert.deepEqual(parseEncryptionKey(raw.toString('base64')), new Uint8Array(raw));
  assert.deepEqual(parseEncryptionKey(raw.toString('base64url')), new Uint8Array(raw));
  assert.deepEqual(parseEncryptionKey(`  ${raw.toString('hex')}\n`), new Uint8Array(raw));
  assert.deepEqual(parseEncryptionKey(raw.toString('hex').toUpperCase()), new Uint8Array(raw));
});

test('a key of the wrong length or format is refused with a clear message', () => {
  assert.throws(
    () => parseEncryptionKey(randomBytes(16).toString('base64')),
    /must be 32 bytes.*decodes to 16 bytes/,
  );
  assert.throws(() => parseEncryptionKey(randomBytes(31).toString('hex')), /must be 32 bytes/);
  assert.throws(() => parseEncryptionKey('not a key!'), /must be 32 bytes/);
  assert.throws(() => parseEncryptionKey(''), /must be 32 bytes/);
  assert.throws(() => createSecretBox(new Uint8Array(16)), /must be 32 bytes/);
});

test('the error for a bad key does not echo the key', () => {
  const secretish = 'c2VjcmV0LXZhbHVlLXRoYXQtaXMtdG9vLXNob3J0';
  assert.throws(
    () => parseEncryptionKey(secretish),
    (error: Error) => !error.message.includes(secretish),
  );
});
