import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSecretHasher, derivePepper } from '../../src/core/secrets/secret-hash.ts';

const storeKey = new Uint8Array(32).fill(1);
const pepper = derivePepper(storeKey);
const hasher = createSecretHasher(pepper);

describe('secret hashing (PINs and security answers)', () => {
  test('the pepper is derived from the store key and is not the key itself', () => {
    assert.equal(pepper.length, 32);
    assert.deepEqual(derivePepper(storeKey), pepper, 'the same key gives the same pepper');
    assert.notDeepEqual(Buffer.from(pepper), Buffer.from(storeKey));
    assert.notDeepEqual(derivePepper(new Uint8Array(32).fill(2)), pepper);
    assert.throws(() => derivePepper(new Uint8Array(8)));
  });

  test('a hash is argon2id in PHC form, salted, and verifies only the same secret', async () => {
    const first = await hasher.hash('fluffy');
    const second = await hasher.hash('fluffy');
    assert.match(first, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(first, second, 'a fresh salt every time');
    assert.ok(!first.includes('fluffy'));
    assert.equal(await hasher.verify('fluffy', first), true);
    assert.equal(await hasher.verify('fluffy', second), true);
    assert.equal(await hasher.verify('Fluffy', first), false);
    assert.equal(await hasher.verify('', first), false);
  });

  test('a hash made with another pepper does not verify (the database alone is not enough)', async () => {
    const other = createSecretHasher(derivePepper(new Uint8Array(32).fill(9)));
    const encoded = await other.hash('1357');
    assert.equal(await other.verify('1357', encoded), true);
    assert.equal(await hasher.verify('1357', encoded), false);
  });

  test('malformed or hostile hashes verify false and never throw', async () => {
    const good = await hasher.hash('x1');
    const [, , , , salt, tag] = good.split('$');
    const cases = [
      '',
      'x1',
      `$argon2i$v=19$m=19456,t=2,p=1$${salt}$${tag}`,
      `$argon2id$v=16$m=19456,t=2,p=1$${salt}$${tag}`,
      `$argon2id$v=19$m=9999999,t=2,p=1$${salt}$${tag}`,
      `$argon2id$v=19$m=19456,t=0,p=1$${salt}$${tag}`,
      `$argon2id$v=19$m=19456,t=2,p=9$${salt}$${tag}`,
      `$argon2id$v=19$m=19456,t=2,p=1$$${tag}`,
      `$argon2id$v=19$m=19456,t=2,p=1$${salt}$`,
      `$argon2id$v=19$m=19456,t=2,p=1$${salt}$${tag}$extra`,
      // One character of the hash changed: a different tag, or a non-canonical spelling of the same one.
      good.replace(/.(.{10})$/, (_, rest) => `${good.at(-11) === 'A' ? 'B' : 'A'}${rest}`),
      good.replace(/.$/, (c) => String.fromCharCode(c.charCodeAt(0) ^ 1)),
      '$scrypt$ln=15,r=8,p=1$c2FsdA==$aGFzaA==',
    ];
    for (const encoded of cases) assert.equal(await hasher.verify('x1', encoded), false, encoded);
    // Not strings at all (a corrupt row): still false.
    assert.equal(await hasher.verify('x1', null as unknown as string), false);
    assert.equal(await hasher.verify(undefined as unknown as string, good), false);
  });

  test('a short pepper is refused', () => {
    assert.throws(() => createSecretHasher(new Uint8Array(8)));
  });
});
