// The core of the SDK's authenticate operations over memory ports and a fixed clock: the second
// factor alone (startSecondFactor) and the authentications an integration starts, polls and
// completes with a code (sdk-authentications.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate } from 'otplib';
import { createSdkAuthentications, type SdkCaller } from '../../src/core/auth/sdk-authentications.ts';
import type { Directory, RequestContext } from '../../src/core/ports.ts';
import { systemRandom } from '../../src/core/random.ts';
import { base32Decode } from '../../src/core/secrets/base32.ts';
import { type CoreFixture, coreFixture } from '../helpers/core-fixture.ts';
import { failure } from '../helpers/users.ts';

/** An integration's server calling the SDK. */
const SDK: RequestContext = { channel: 'sdk', clientAddress: '192.0.2.50', application: 'hr-portal' };
const HR: SdkCaller = { accountId: 'account-hr', ctx: SDK };
const PAYROLL: SdkCaller = { accountId: 'account-payroll', ctx: { ...SDK, application: 'payroll' } };
const PHONE: RequestContext = { channel: 'mobile', clientAddress: '100.64.0.9' };

/** The fixture with push offered, so that an activated phone becomes the user's default method. */
function fixture() {
  const f = coreFixture({ enrollment: { methods: ['totp', 'push', 'sms'] } });
  const auths = createSdkAuthentications({
    authenticator: f.authenticator,
    push: f.push,
    challenges: f.store,
    store: f.store,
    clock: f.clock,
    random: systemRandom,
    challengeTtlSeconds: 300,
  });
  return { ...f, auths };
}

async function withCode(f: CoreFixture, username = 'alice') {
  await f.userAdmin.add({ username }, f.admin);
  const seed = base32Decode((await f.userAdmin.enrollTotp(username, f.admin)).secretBase32);
  /** The code of the step `steps` away from now. */
  return (steps = 0): Promise<string> =>
    generate({ secret: seed, epoch: Math.floor(f.clock.now() / 1000) + steps * 30 });
}

async function withPhone(f: CoreFixture, username = 'bob') {
  await f.userAdmin.add({ username }, f.admin);
  return f.activateDevice(username);
}

/** Counts binds; any bind is also refused, so a flow that needed one would fail. */
function bindsOf(directory: Directory): { count: number } {
  const seen = { count: 0 };
  directory.authenticate = async () => {
    seen.count++;
    throw new Error('test: the directory was asked to bind');
  };
  return seen;
}

/** Resolves once `check` holds: the held wait joins the hub a few awaits after the call. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(check());
}

/** A code no step within the window accepts: the right one with its last digit changed. */
const wrong = (code: string) => `${code.slice(0, -1)}${(Number(code.at(-1)) + 5) % 10}`;

describe('the second factor alone (startSecondFactor)', () => {
  it('asks for the second factor without any bind, and the audit names the application that vouched', async () => {
    const f = fixture();
    const code = await withCode(f);
    const binds = bindsOf(f.directory);
    const outcome = await f.authenticator.startSecondFactor('Alice', SDK);
    assert.ok(outcome.kind === 'second_factor');
    assert.equal(outcome.challenge.method, 'totp');
    assert.equal(outcome.challenge.channel, 'sdk');
    const done = await f.authenticator.completeLogin(outcome.challenge.id, await code(), SDK);
    assert.equal(done.level, 2);
    assert.equal(binds.count, 0);
    const primary = f.store.events.find((e) => e.type === 'auth.primary');
    assert.equal(primary?.reason, 'asserted_by_application');
    assert.equal(primary?.application, 'hr-portal');
  });

  it('refuses unknown, disabled, blocked and locked users as startLogin does, audited and on the timing floor', async () => {
    const f = fixture();
    for (const name of ['alice', 'erin', 'frank', 'gus']) await withCode(f, name);
    await f.userAdmin.disable('erin', f.admin);
    const frank = await f.store.findUserByName('frank');
    await f.store.updateUser(frank?.id ?? '', { status: 'blocked' }, f.clock.now());
    for (let i = 0; i < 3; i++) await f.regulator.recordFailure('gus', SDK);
    const cases = [
      ['mallory', 'auth.user_not_enrolled'],
      ['erin', 'auth.user_disabled'],
      ['frank', 'auth.locked'],
      ['gus', 'auth.locked'],
    ] as const;
    for (const [username, code] of cases) {
      const slept = f.clock.slept;
      const error = await failure(f.authenticator.startSecondFactor(username, SDK));
      assert.equal(error.code, code, username);
      assert.equal(error.publicMessage, 'Sign-in failed.', username);
      assert.equal(f.clock.slept - slept, 300, `${username}: the timing floor`);
      const audited = f.store.events.findLast((e) => e.type === 'auth.primary');
      assert.deepEqual([audited?.username, audited?.outcome, audited?.reason], [username, 'failure', code]);
    }
  });

  it('an explicit push needs an activated phone, and an explicit code never sends one', async () => {
    const f = fixture();
    await withCode(f, 'alice');
    await withPhone(f, 'bob');
    const noPhone = await f.authenticator.startSecondFactor('alice', SDK, { method: 'push' });
    assert.equal(noPhone.kind, 'no_second_factor');
    const bob = await f.store.findUserByName('bob');
    assert.equal(bob?.defaultMethod, 'push');
    const byCode = await f.authenticator.startSecondFactor('bob', SDK, { method: 'code' });
    assert.ok(byCode.kind === 'second_factor');
    assert.equal(byCode.push, undefined);
    assert.deepEqual(await f.store.listPendingPushRequests(bob?.id ?? '', f.clock.now()), []);
  });

  it('a one-time bypass is spent and needs no factor at all', async () => {
    const f = fixture();
    await withCode(f);
    await f.userAdmin.issueBypass('alice', { seconds: 300 }, f.admin);
    const outcome = await f.authenticator.startSecondFactor('alice', SDK);
    assert.equal(outcome.kind, 'authenticated');
    assert.equal((await f.authenticator.startSecondFactor('alice', SDK)).kind, 'second_factor');
  });
});

describe('SDK authentications', () => {
  it('the id carries at least 128 random bits, and another account finds nothing under it', async () => {
    const f = fixture();
    const code = await withCode(f);
    const first = await f.auths.start({ username: 'alice', method: 'code' }, HR);
    const second = await f.auths.start({ username: 'alice', method: 'code' }, HR);
    for (const { id } of [first, second]) assert.ok(Buffer.from(id, 'base64url').length * 8 >= 128);
    assert.notEqual(first.id, second.id);
    assert.equal(first.status, 'code_required');
    const unknown = await failure(f.auths.get('A'.repeat(24), PAYROLL));
    const foreign = await failure(f.auths.get(first.id, PAYROLL));
    assert.equal(foreign.code, 'not_found');
    assert.equal(foreign.publicMessage, unknown.publicMessage);
    assert.equal((await failure(f.auths.submitCode(first.id, await code(), PAYROLL))).code, 'not_found');
    assert.equal((await f.store.getChallenge(first.challengeId ?? ''))?.attempts, 0, 'no attempt was spent');
    assert.equal((await f.auths.submitCode(first.id, await code(), HR)).status, 'approved');
  });

  it('a push approved on the phone is recorded approved, and any node sharing the store reads it', async () => {
    const f = fixture();
    const phone = await withPhone(f);
    const started = await f.auths.start({ username: 'bob' }, HR);
    assert.deepEqual([started.status, started.method], ['pending', 'push']);
    const [view] = await f.push.requestsForDevice(phone.device, 0);
    assert.ok(view);
    assert.deepEqual(view.choices, [], 'out of band: no number to match');
    assert.equal((await f.auths.get(started.id, HR)).status, 'pending');
    await f.push.answer(view.id, await phone.answer(view, 'approve'), PHONE);
    const otherNode = createSdkAuthentications({
      authenticator: f.authenticator,
      push: f.push,
      challenges: f.store,
      store: f.store,
      clock: f.clock,
      random: systemRandom,
      challengeTtlSeconds: 300,
    });
    const polled = await otherNode.get(started.id, HR);
    assert.deepEqual([polled.status, polled.reason], ['approved', 'push']);
    assert.equal((await f.store.getSdkAuthentication(started.id))?.status, 'approved');
    assert.equal((await f.auths.get(started.id, HR)).status, 'approved', 'approved stays approved');
    assert.ok(f.store.events.some((e) => e.type === 'auth.second_factor' && e.reason === 'push'));
  });

  it('a long poll wakes when the phone answers, and lets go when its caller goes away', async () => {
    const f = fixture();
    const phone = await withPhone(f);
    const started = await f.auths.start({ username: 'bob' }, HR);
    const polling = f.auths.get(started.id, HR, 30_000);
    await until(() => f.pushHub.size().requests === 1);
    const [view] = await f.push.requestsForDevice(phone.device, 0);
    assert.ok(view);
    await f.push.answer(view.id, await phone.answer(view, 'approve'), PHONE);
    assert.equal((await polling).status, 'approved');

    const again = await f.auths.start({ username: 'bob' }, HR);
    const hangUp = new AbortController();
    const held = f.auths.start({ username: 'bob', waitMs: 30_000 }, { ...HR, signal: hangUp.signal });
    await until(() => f.pushHub.size().requests === 1);
    hangUp.abort();
    const answered = await held;
    assert.equal(answered.status, 'pending');
    assert.equal(f.pushHub.size().requests, 0, 'nothing is left waiting');
    assert.equal((await f.auths.get(again.id, HR)).status, 'pending');
  });

  it('a denial and a fraud report end it as denied; an unanswered push as expired', async () => {
    const f = fixture();
    const bob = await withPhone(f, 'bob');
    const carl = await withPhone(f, 'carl');
    await withPhone(f, 'dora');
    const answer = async (phone: typeof bob, decision: 'deny' | 'fraud') => {
      const [view] = await f.push.requestsForDevice(phone.device, 0);
      assert.ok(view);
      await f.push.answer(view.id, await phone.answer(view, decision), PHONE);
    };
    const denied = await f.auths.start({ username: 'bob' }, HR);
    await answer(bob, 'deny');
    assert.deepEqual(
      [(await f.auths.get(denied.id, HR)).status, (await f.auths.get(denied.id, HR)).reason],
      ['denied', 'denied'],
    );
    const reported = await f.auths.start({ username: 'carl' }, HR);
    await answer(carl, 'fraud');
    const fraud = await f.auths.get(reported.id, HR);
    assert.deepEqual([fraud.status, fraud.reason], ['denied', 'fraud']);
    assert.equal((await failure(f.auths.start({ username: 'carl' }, HR))).code, 'auth.locked');

    const ignored = await f.auths.start({ username: 'dora' }, HR);
    f.clock.advance(121_000);
    const expired = await f.auths.get(ignored.id, HR);
    assert.deepEqual([expired.status, expired.reason], ['expired', 'push_expired']);
    // The phone may still answer the dead request: the result recorded first stands.
    assert.equal((await f.auths.get(ignored.id, HR)).status, 'expired');
  });

  it('wrong codes count; the attempt that uses up the challenge fails it, and the user is locked out', async () => {
    const f = fixture();
    const code = await withCode(f);
    const started = await f.auths.start({ username: 'alice', password: 'alice-pw', method: 'code' }, HR);
    for (let i = 1; i <= 3; i++) {
      const error = await failure(f.auths.submitCode(started.id, wrong(await code()), HR));
      assert.equal(error.code, 'auth.invalid_code');
      assert.equal((await f.store.getCounter('user:alice'))?.failures, i);
    }
    const failed = await f.auths.get(started.id, HR);
    assert.deepEqual([failed.status, failed.reason], ['failed', 'auth.too_many_attempts']);
    assert.equal(
      (await failure(f.auths.submitCode(started.id, await code(), HR))).code,
      'auth.challenge_expired',
    );
    assert.ok(await f.regulator.isUserLocked('alice'));
    assert.equal((await failure(f.auths.start({ username: 'alice' }, HR))).code, 'auth.locked');
    assert.ok(f.store.events.some((e) => e.type === 'regulation.lockout'));
  });

  it('a code is accepted once: not again on the same authentication, nor on a new one', async () => {
    const f = fixture();
    const code = await withCode(f);
    const used = await code();
    const first = await f.auths.start({ username: 'alice', password: 'alice-pw' }, HR);
    assert.deepEqual([(await f.auths.submitCode(first.id, used, HR)).status], ['approved']);
    const again = await failure(f.auths.submitCode(first.id, used, HR));
    assert.equal(again.code, 'auth.challenge_expired');
    assert.equal((await f.auths.get(first.id, HR)).status, 'approved', 'the refusal changes nothing');
    const second = await f.auths.start({ username: 'alice', password: 'alice-pw' }, HR);
    assert.equal((await failure(f.auths.submitCode(second.id, used, HR))).code, 'auth.invalid_code');
    assert.equal((await f.auths.submitCode(second.id, await code(1), HR)).status, 'approved');
  });

  it('the result outlives the deadline until it is swept; an open one expires at it', async () => {
    const f = fixture();
    const code = await withCode(f);
    const approved = await f.auths.start({ username: 'alice', method: 'code' }, HR);
    await f.auths.submitCode(approved.id, await code(), HR);
    const open = await f.auths.start({ username: 'alice', method: 'code' }, HR);
    f.clock.advance(300_000);
    assert.equal((await f.auths.get(approved.id, HR)).status, 'approved');
    assert.equal((await f.auths.get(open.id, HR)).status, 'expired');
    assert.equal(
      (await failure(f.auths.submitCode(open.id, await code(), HR))).code,
      'auth.challenge_expired',
    );
    f.clock.advance(300_000);
    assert.equal((await failure(f.auths.get(approved.id, HR))).code, 'not_found');
    assert.equal(await f.store.deleteExpiredSdkAuthentications(f.clock.now()), 2);
  });

  it('with a password, a wrong one is refused as startLogin refuses it and leaves nothing behind', async () => {
    const f = fixture();
    await withCode(f);
    const error = await failure(f.auths.start({ username: 'alice', password: 'nope' }, HR));
    assert.equal(error.code, 'auth.invalid_credentials');
    assert.equal((await f.store.getCounter('user:alice'))?.failures, 1);
    assert.equal(
      (await failure(f.auths.start({ username: 'carol', password: 'x' }, HR))).code,
      'auth.invalid_credentials',
    );
  });

  it('a poll racing another node’s completion never records a failure over its approval', async () => {
    const f = fixture();
    const phone = await withPhone(f);
    const started = await f.auths.start({ username: 'bob' }, HR);
    const [view] = await f.push.requestsForDevice(phone.device, 0);
    assert.ok(view);
    await f.push.answer(view.id, await phone.answer(view, 'approve'), PHONE);
    // Another node completed the challenge and has yet to record the approval.
    await f.authenticator.completeWithPush(started.challengeId ?? '', view.id, SDK);
    assert.equal((await f.auths.get(started.id, HR)).status, 'pending');
    await f.store.finishSdkAuthentication(started.id, {
      status: 'approved',
      reason: 'push',
      at: f.clock.now(),
    });
    assert.equal((await f.auths.get(started.id, HR)).status, 'approved');
  });
});
