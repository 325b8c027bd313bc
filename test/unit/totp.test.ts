import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate } from 'otplib';
import { createFixedClock } from '../../src/core/clock.ts';
import { createTotpVerifier, totpUri } from '../../src/core/factors/totp.ts';
import { base32Decode, base32Encode } from '../../src/core/secrets/base32.ts';
import { createMemoryStore } from '../helpers/memory-ports.ts';
import { newUser } from '../helpers/users.ts';

// RFC 6238 appendix B: the seeds are the ASCII strings below, 8 digits.
const SEEDS = {
  sha1: Buffer.from('12345678901234567890'),
  sha256: Buffer.from('12345678901234567890123456789012'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
} as const;
const VECTORS: Array<[number, string, string, string]> = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

async function verifierAt(
  seconds: number,
  algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha1',
  digits: 6 | 8 = 8,
) {
  const store = createMemoryStore();
  const clock = createFixedClock(seconds * 1000);
  const user = await store.createUser(newUser('alice'), clock.now());
  await store.addTotpFactor(user.id, 'app', SEEDS[algorithm], { algorithm, digits, period: 30 }, clock.now());
  return { verify: createTotpVerifier({ factors: store, clock, window: 1 }), userId: user.id, clock };
}

describe('TOTP', () => {
  for (const [seconds, sha1, sha256, sha512] of VECTORS) {
    for (const [algorithm, code] of [
      ['sha1', sha1],
      ['sha256', sha256],
      ['sha512', sha512],
    ] as const) {
      test(`RFC 6238 vector T=${seconds} ${algorithm}`, async () => {
        const { verify, userId } = await verifierAt(seconds, algorithm);
        assert.deepEqual((await verify(userId, code)).ok, true);
      });
    }
  }

  test('the same code twice is refused (replay guard)', async () => {
    const { verify, userId } = await verifierAt(1234567890);
    assert.equal((await verify(userId, '89005924')).ok, true);
    assert.deepEqual(await verify(userId, '89005924'), { ok: false, reason: 'replayed' });
  });

  test('a code from the step before is accepted, one from two steps before is refused', async () => {
    const { verify, userId, clock } = await verifierAt(1234567890);
    clock.advance(30_000);
    assert.equal((await verify(userId, '89005924')).ok, true, 'one step old is within ±1');
    const second = await verifierAt(1234567890);
    second.clock.advance(60_000);
    assert.deepEqual(await second.verify(second.userId, '89005924'), { ok: false, reason: 'wrong_code' });
  });

  test('an older code is refused once a newer one was accepted', async () => {
    const { verify, userId, clock } = await verifierAt(1111111111);
    const previous = await generate({ secret: SEEDS.sha1, epoch: 1111111111 - 30, digits: 8 });
    clock.advance(0);
    assert.equal((await verify(userId, '14050471')).ok, true);
    assert.deepEqual(await verify(userId, previous), { ok: false, reason: 'replayed' });
  });

  test('malformed codes are refused without throwing', async () => {
    const { verify, userId } = await verifierAt(59);
    for (const code of ['', 'abcdefgh', '9428708', '942870822', '94287082\u0000', '-4287082']) {
      assert.equal((await verify(userId, code)).ok, false, JSON.stringify(code));
    }
  });

  test('a user without a factor gets no_factor', async () => {
    const store = createMemoryStore();
    const verify = createTotpVerifier({ factors: store, clock: createFixedClock(0), window: 1 });
    assert.deepEqual(await verify('nobody', '123456'), { ok: false, reason: 'no_factor' });
  });

  test('base32 round-trips and the otpauth URI names issuer and account', () => {
    const seed = new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255, 9]);
    assert.deepEqual(base32Decode(base32Encode(seed).toLowerCase()), seed);
    assert.equal(base32Encode(Buffer.from('12345678901234567890')), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    const uri = totpUri(seed, 'alice', { issuer: 'Example Corp', algorithm: 'sha1', digits: 6, period: 30 });
    assert.match(uri, /^otpauth:\/\/totp\/Example%20Corp:alice\?/);
    assert.match(uri, /secret=AAAQF6X37T6757YJ/);
    assert.match(uri, /issuer=Example%20Corp/);
  });
});
