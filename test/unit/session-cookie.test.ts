// Session cookies with a fixed clock: the idle timeout slides, at the cost of one encryption per
// refresh interval even for a client that never takes the new cookie.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFixedClock } from '../../src/core/clock.ts';
import { systemRandom } from '../../src/core/random.ts';
import { createSessionCookies, importSessionKey } from '../../src/http/session-cookie.ts';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

async function setup() {
  const clock = createFixedClock(NOW);
  const cookies = createSessionCookies({
    key: await importSessionKey(new Uint8Array(32).fill(7)),
    clock,
    random: systemRandom,
    revocation: { isRevoked: async () => false, revokeSession: async () => {} },
    settings: {
      cookieName: 'mfa_session',
      idleTimeoutSeconds: 1800,
      maxAgeSeconds: 43200,
      cacheSize: 100,
      revocationCheckSeconds: 5,
    },
  });
  const session = cookies.create({
    username: 'alice',
    level: 2,
    host: 'intranet.test',
    secondFactorAt: NOW,
    groups: ['staff'],
    email: null,
    name: null,
    via: 'totp',
  });
  return { clock, cookies, session, token: await cookies.encode(session) };
}

test('a fresh session is not re-issued; an older one is, once per interval, whoever keeps the old cookie', async () => {
  const { clock, cookies, token } = await setup();
  const first = await cookies.verify(token, 'intranet.test');
  assert.ok(typeof first !== 'string');
  assert.equal(await cookies.refresh(first), undefined);
  clock.advance(61_000);
  const stale = await cookies.verify(token, 'intranet.test');
  assert.ok(typeof stale !== 'string');
  const renewed = await cookies.refresh(stale);
  assert.ok(renewed);
  assert.equal(await cookies.refresh(stale), renewed, 'the same cookie again, not a new encryption');
  const slid = await cookies.verify(renewed, 'intranet.test');
  assert.ok(typeof slid !== 'string' && slid.lastSeen === clock.now());
});

test('a session idle past the timeout, or used on another host, is refused', async () => {
  const { clock, cookies, token } = await setup();
  assert.equal(await cookies.verify(token, 'other.test'), 'other_host');
  clock.advance(1800_000);
  assert.equal(await cookies.verify(token, 'intranet.test'), 'idle');
});
