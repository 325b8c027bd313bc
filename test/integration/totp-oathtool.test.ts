// Codes made by an independent implementation (oathtool, from Debian) must be accepted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { createFixedClock } from '../../src/core/clock.ts';
import { createTotpVerifier } from '../../src/core/factors/totp.ts';
import { systemRandom } from '../../src/core/random.ts';
import { base32Encode } from '../../src/core/secrets/base32.ts';
import { createMemoryStore } from '../helpers/memory-ports.ts';
import { newUser } from '../helpers/users.ts';

function oathtool(seed: Uint8Array, at: number, algorithm: string, digits: number): string {
  const time = new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return execFileSync(
    'oathtool',
    [`--totp=${algorithm}`, `--digits=${digits}`, '--base32', `--now=${time}`, base32Encode(seed)],
    { encoding: 'utf8' },
  ).trim();
}

for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
  for (const digits of [6, 8] as const) {
    test(`codes made by oathtool are accepted (${algorithm}, ${digits} digits)`, async () => {
      const at = Date.UTC(2026, 10, 23, 9, 41, 17);
      const store = createMemoryStore();
      const clock = createFixedClock(at);
      const user = await store.createUser(newUser('alice'), at);
      const seed = systemRandom.bytes(20);
      await store.addTotpFactor(user.id, 'app', seed, { algorithm, digits, period: 30 }, at);
      const verify = createTotpVerifier({ factors: store, clock, window: 1 });
      const previous = oathtool(seed, at - 30_000, algorithm, digits);
      const current = oathtool(seed, at, algorithm, digits);
      assert.equal((await verify(user.id, previous)).ok, true, 'the code of the previous step');
      assert.equal((await verify(user.id, current)).ok, true, 'the current code');
      assert.deepEqual(await verify(user.id, current), { ok: false, reason: 'replayed' });
      const stale = oathtool(seed, at - 90_000, algorithm, digits);
      clock.advance(30_000);
      assert.equal((await verify(user.id, stale)).ok, false, 'a code several steps old');
    });
  }
}
