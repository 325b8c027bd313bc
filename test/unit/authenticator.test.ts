import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate } from 'otplib';
import { SIGN_IN_FAILED } from '../../src/core/errors.ts';
import { base32Decode } from '../../src/core/secrets/base32.ts';
import { ATTACKER, coreFixture, WEB } from '../helpers/core-fixture.ts';
import { failure } from '../helpers/users.ts';

async function enrolled(fixture: ReturnType<typeof coreFixture>, username = 'alice') {
  await fixture.userAdmin.add({ username }, fixture.admin);
  const enrollment = await fixture.userAdmin.enrollTotp(username, fixture.admin);
  const seed = base32Decode(enrollment.secretBase32);
  const codeAt = (ms: number) => generate({ secret: seed, epoch: Math.floor(ms / 1000) });
  return { codeAt, code: () => codeAt(fixture.clock.now()) };
}

describe('authentication flow', () => {
  test('password then TOTP code reaches two factors, and both steps are audited', async () => {
    const f = coreFixture();
    const { code } = await enrolled(f);
    const primary = await f.authenticator.startLogin('Alice ', 'alice-pw', WEB);
    assert.equal(primary.kind, 'second_factor');
    assert.ok(primary.kind === 'second_factor');
    const done = await f.authenticator.completeLogin(primary.challenge.id, await code(), WEB);
    assert.equal(done.level, 2);
    assert.equal(done.username, 'alice');
    const types = f.store.events.map((e) => `${e.type}:${e.outcome}`);
    assert.ok(types.includes('auth.primary:success'));
    assert.ok(types.includes('auth.second_factor:success'));
    const second = f.store.events.find((e) => e.type === 'auth.second_factor');
    assert.equal(second?.clientAddress, WEB.clientAddress);
    assert.equal(second?.channel, 'web');
    const logged = f.logged.map((line) => (line as { audit: { type: string } }).audit.type);
    assert.deepEqual(
      logged.slice(-2),
      ['auth.primary', 'auth.second_factor'],
      'the JSON log carries the same events',
    );
  });

  test('unknown user and wrong password are indistinguishable, and both wait the timing floor', async () => {
    const f = coreFixture();
    await enrolled(f);
    const before = f.clock.slept;
    const unknown = await failure(f.authenticator.startLogin('mallory', 'x', WEB));
    const sleptUnknown = f.clock.slept - before;
    const wrong = await failure(f.authenticator.startLogin('alice', 'wrong', WEB));
    const sleptWrong = f.clock.slept - before - sleptUnknown;
    assert.equal(unknown.code, wrong.code);
    assert.equal(unknown.publicMessage, wrong.publicMessage);
    assert.equal(unknown.publicMessage, SIGN_IN_FAILED);
    assert.equal(sleptUnknown, 300);
    assert.equal(sleptWrong, 300);
  });

  test('an empty password never reaches the directory as a bind', async () => {
    const f = coreFixture();
    await enrolled(f);
    f.directory.down = true; // anything that reached the directory would now be an outage
    const error = await failure(f.authenticator.startLogin('alice', '', WEB));
    assert.equal(error.code, 'auth.invalid_credentials');
  });

  test('a user unknown to the store is rejected when requireUserMatch is reject', async () => {
    const f = coreFixture();
    const error = await failure(f.authenticator.startLogin('bob', 'bob-pw', WEB));
    assert.equal(error.code, 'auth.user_not_enrolled');
    assert.equal(error.publicMessage, SIGN_IN_FAILED);
  });

  test('a user unknown to the store passes on the password alone when requireUserMatch is primary-only', async () => {
    const f = coreFixture({ auth: { requireUserMatch: 'primary-only' } });
    const outcome = await f.authenticator.startLogin('bob', 'bob-pw', WEB);
    assert.ok(outcome.kind === 'authenticated');
    assert.equal(outcome.via, 'primary_only');
    assert.equal(outcome.level, 2);
  });

  test('a known user with no factor cannot pass on the password alone', async () => {
    const f = coreFixture({ auth: { requireUserMatch: 'primary-only' } });
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const primary = await f.authenticator.startLogin('bob', 'bob-pw', WEB);
    assert.equal(primary.kind, 'no_second_factor');
    const audited = f.store.events.find((e) => e.type === 'auth.second_factor');
    assert.equal(audited?.reason, 'auth.no_second_factor');
  });

  test('a one-time bypass is honoured once, and only before it expires', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    await f.userAdmin.enrollTotp('bob', f.admin);
    await f.userAdmin.issueBypass('bob', { seconds: 60, reason: 'lost phone' }, f.admin);
    await f.userAdmin.issueBypass('bob', { seconds: 60 }, f.admin);
    const first = await f.authenticator.startLogin('bob', 'bob-pw', WEB);
    assert.ok(first.kind === 'authenticated' && first.via === 'bypass' && first.level === 2);
    f.clock.advance(61_000);
    const second = await f.authenticator.startLogin('bob', 'bob-pw', WEB);
    assert.equal(second.kind, 'second_factor', 'the second bypass expired unused');
    assert.equal(f.store.events.filter((e) => e.type === 'auth.bypass').length, 1);
  });

  test('an app that needs one factor stops after the password and spends no bypass', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    await f.userAdmin.issueBypass('bob', { seconds: 60 }, f.admin);
    const outcome = await f.authenticator.startLogin('bob', 'bob-pw', WEB, { need: 1 });
    assert.ok(outcome.kind === 'authenticated' && outcome.level === 1 && outcome.via === 'password');
    const later = await f.authenticator.startLogin('bob', 'bob-pw', WEB);
    assert.ok(later.kind === 'authenticated' && later.via === 'bypass');
  });

  test('disabling a user revokes every session they hold, and only sessions issued before', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const before = { id: 's1', username: 'bob', issuedAt: f.clock.now() };
    f.clock.advance(1000);
    await f.userAdmin.disable('bob', f.admin);
    f.clock.advance(1000);
    const after = { id: 's2', username: 'bob', issuedAt: f.clock.now() };
    assert.equal(await f.sessions.isRevoked(before), true);
    assert.equal(await f.sessions.isRevoked(after), false);
    await f.sessions.revokeSession('s2');
    assert.equal(await f.sessions.isRevoked(after), true);
  });

  test('an imported TOTP seed shorter than 128 bits is refused', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const error = await failure(f.userAdmin.enrollTotp('bob', f.admin, 'token', 'JBSWY3DPEHPK3PXP'));
    assert.equal(error.code, 'input.invalid');
    const ok = await f.userAdmin.enrollTotp('bob', f.admin, 'token', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    assert.equal(ok.secretBase32, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
  });

  test('a wrong code is refused and a challenge allows only maxAttempts tries', async () => {
    const f = coreFixture({
      regulation: { user: { maxFailures: 100, windowSeconds: 300, banSeconds: 900 } },
    });
    const { code } = await enrolled(f);
    const primary = await f.authenticator.startLogin('alice', 'alice-pw', WEB);
    assert.ok(primary.kind === 'second_factor');
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await failure(f.authenticator.completeLogin(primary.challenge.id, '000000', WEB))).code,
        'auth.invalid_code',
      );
    }
    const after = await failure(f.authenticator.completeLogin(primary.challenge.id, await code(), WEB));
    assert.equal(after.code, 'auth.challenge_expired', 'the right code after the last attempt does not pass');
  });

  test('a challenge is single use', async () => {
    const f = coreFixture();
    const { code } = await enrolled(f);
    const primary = await f.authenticator.startLogin('alice', 'alice-pw', WEB);
    assert.ok(primary.kind === 'second_factor');
    await f.authenticator.completeLogin(primary.challenge.id, await code(), WEB);
    f.clock.advance(30_000);
    const error = await failure(f.authenticator.completeLogin(primary.challenge.id, await code(), WEB));
    assert.equal(error.code, 'auth.challenge_expired');
  });

  test('an expired challenge is refused', async () => {
    const f = coreFixture();
    const { code } = await enrolled(f);
    const primary = await f.authenticator.startLogin('alice', 'alice-pw', WEB);
    assert.ok(primary.kind === 'second_factor');
    f.clock.advance(301_000);
    const error = await failure(f.authenticator.completeLogin(primary.challenge.id, await code(), WEB));
    assert.equal(error.code, 'auth.challenge_expired');
  });

  test('a challenge opened on one channel cannot be answered on another', async () => {
    const f = coreFixture();
    const { code } = await enrolled(f);
    const primary = await f.authenticator.startLogin('alice', 'alice-pw', WEB);
    assert.ok(primary.kind === 'second_factor');
    const radius = { channel: 'radius' as const, clientAddress: '192.0.2.1' };
    const error = await failure(f.authenticator.completeLogin(primary.challenge.id, await code(), radius));
    assert.equal(error.code, 'auth.challenge_expired');
  });

  test('a disabled user is refused with the generic message', async () => {
    const f = coreFixture();
    await enrolled(f);
    await f.userAdmin.disable('alice', f.admin);
    const error = await failure(f.authenticator.startLogin('alice', 'alice-pw', WEB));
    assert.equal(error.code, 'auth.user_disabled');
    assert.equal(error.publicMessage, SIGN_IN_FAILED);
  });

  test('a directory outage fails closed and does not count towards lockout', async () => {
    const f = coreFixture();
    await enrolled(f);
    f.directory.down = true;
    for (let i = 0; i < 5; i++) {
      const error = await failure(f.authenticator.startLogin('alice', 'alice-pw', WEB));
      assert.equal(error.code, 'directory.unavailable');
      assert.equal(error.publicMessage, SIGN_IN_FAILED);
    }
    f.directory.down = false;
    assert.equal((await f.authenticator.startLogin('alice', 'alice-pw', WEB)).kind, 'second_factor');
  });
});

describe('regulation', () => {
  test('a user is locked after N failures and is told only that the sign-in failed', async () => {
    const f = coreFixture();
    await enrolled(f);
    for (let i = 0; i < 3; i++) await failure(f.authenticator.startLogin('alice', 'guess', ATTACKER));
    const locked = await failure(f.authenticator.startLogin('alice', 'alice-pw', WEB));
    assert.equal(locked.code, 'auth.locked');
    assert.equal(locked.publicMessage, SIGN_IN_FAILED);
    const lockout = f.store.events.filter((e) => e.type === 'regulation.lockout');
    assert.equal(lockout.length, 1, 'the lockout is audited once');
    assert.equal(lockout[0]?.username, 'alice');
  });

  test('wrong TOTP codes count towards the lockout too', async () => {
    const f = coreFixture();
    await enrolled(f);
    for (let i = 0; i < 3; i++) {
      const primary = await f.authenticator.startLogin('alice', 'alice-pw', WEB);
      assert.ok(primary.kind === 'second_factor');
      await failure(f.authenticator.completeLogin(primary.challenge.id, '000000', WEB));
    }
    assert.equal((await failure(f.authenticator.startLogin('alice', 'alice-pw', WEB))).code, 'auth.locked');
  });

  test('the lockout ends after the ban time', async () => {
    const f = coreFixture();
    await enrolled(f);
    for (let i = 0; i < 3; i++) await failure(f.authenticator.startLogin('alice', 'guess', ATTACKER));
    f.clock.advance(901_000);
    assert.equal((await f.authenticator.startLogin('alice', 'alice-pw', WEB)).kind, 'second_factor');
  });

  test('failures outside the window do not add up', async () => {
    const f = coreFixture();
    await enrolled(f);
    for (let i = 0; i < 4; i++) {
      await failure(f.authenticator.startLogin('alice', 'guess', ATTACKER));
      f.clock.advance(200_000);
    }
    assert.equal((await f.authenticator.startLogin('alice', 'alice-pw', WEB)).kind, 'second_factor');
  });

  test('an administrator unblocks a locked user, and the unblock is audited with their name', async () => {
    const f = coreFixture();
    await enrolled(f);
    for (let i = 0; i < 3; i++) await failure(f.authenticator.startLogin('alice', 'guess', ATTACKER));
    const result = await f.userAdmin.unblock('alice', f.admin);
    assert.equal(result.lockoutCleared, true);
    assert.equal((await f.authenticator.startLogin('alice', 'alice-pw', WEB)).kind, 'second_factor');
    const unblock = f.store.events.find((e) => e.type === 'admin.user_unblock');
    assert.equal(unblock?.actor, 'cli:root');
  });

  test('one address spraying many users is locked out by address', async () => {
    const f = coreFixture({
      regulation: { address: { maxFailures: 4, windowSeconds: 300, banSeconds: 900 } },
    });
    await enrolled(f);
    for (const name of ['u1', 'u2', 'u3', 'u4'])
      await failure(f.authenticator.startLogin(name, 'x', ATTACKER));
    assert.equal(
      (await failure(f.authenticator.startLogin('alice', 'alice-pw', ATTACKER))).code,
      'auth.locked',
    );
    assert.equal((await f.authenticator.startLogin('alice', 'alice-pw', WEB)).kind, 'second_factor');
  });
});
