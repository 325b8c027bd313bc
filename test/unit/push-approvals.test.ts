import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate } from 'otplib';
import type { PrimaryOutcome } from '../../src/core/auth/authenticator.ts';
import { isMfaError } from '../../src/core/errors.ts';
import type { Method, RequestContext } from '../../src/core/ports.ts';
import { ANSWER_TYPE, DEVICE_PROOF_TYPE } from '../../src/core/push/device-signature.ts';
import {
  ATTACKER,
  type CoreFixture,
  coreFixture,
  deviceKeyPair,
  PORTAL_OUTSIDE,
  signAsDevice,
  WEB,
} from '../helpers/core-fixture.ts';
import { failure } from '../helpers/users.ts';

const PUSH_METHODS: Method[] = ['totp', 'push', 'sms'];
/** Where the phone's answers come from: the mobile service, over the carrier's network. */
const PHONE: RequestContext = { channel: 'mobile', clientAddress: '100.64.0.9' };
const REQUESTS_PATH = '/mobile/v1/requests';

/** The core with push offered as a method, so an activated phone becomes the user's default. */
function pushFixture(overrides: Parameters<typeof coreFixture>[0] = {}): CoreFixture {
  return coreFixture({ ...overrides, enrollment: { methods: PUSH_METHODS, ...overrides.enrollment } });
}

async function withPhone(f: CoreFixture, username = 'alice') {
  await f.userAdmin.add({ username }, f.admin);
  return f.activateDevice(username);
}

/** A sign-in that reached the push: its challenge and the request the phone was sent. */
async function pushSignIn(f: CoreFixture, ctx: RequestContext = WEB, username = 'alice') {
  const outcome = await f.authenticator.startLogin(username, `${username}-pw`, ctx);
  assert.ok(outcome.kind === 'second_factor' && outcome.push, 'the sign-in waits for a push');
  assert.equal(outcome.challenge.method, 'push');
  return { challenge: outcome.challenge, request: outcome.push };
}

async function stateOf(f: CoreFixture, requestId: string) {
  return (await f.store.getPushRequest(requestId))?.state;
}

async function userFailures(f: CoreFixture, username = 'alice') {
  return (await f.store.getCounter(`user:${username}`))?.failures ?? 0;
}

describe('push approvals', () => {
  it('a push sign-in shows a number the phone must pick among three, and its approval completes the sign-in', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    assert.equal((await f.store.findUserByName('alice'))?.defaultMethod, 'push');

    const { challenge, request } = await pushSignIn(f);
    assert.ok(request.number >= 10 && request.number <= 99);
    const [view, ...others] = await f.push.requestsForDevice(phone.device, 0);
    assert.ok(view);
    assert.equal(others.length, 0);
    assert.equal(view.id, request.id);
    assert.equal(view.choices.length, 3);
    assert.equal(new Set(view.choices).size, 3, 'three distinct choices');
    assert.ok(view.choices.includes(request.number));
    assert.ok(view.choices.every((n) => n >= 10 && n <= 99));

    const outcome = await f.push.answer(
      view.id,
      await phone.answer(view, 'approve', { number: request.number }),
      PHONE,
    );
    assert.deepEqual(outcome, { state: 'approved', reason: null });
    const done = await f.authenticator.completeWithPush(challenge.id, request.id, WEB);
    assert.equal(done.level, 2);
    assert.equal(done.username, 'alice');
    assert.equal(await f.store.getChallenge(challenge.id), undefined, 'the challenge is spent');
    const audited = f.store.events.map((e) => `${e.type}:${e.outcome}:${e.reason}`);
    assert.ok(audited.includes('auth.push_sent:info:null'));
    assert.ok(audited.includes('auth.push_answer:success:approved'));
    assert.ok(audited.includes('auth.second_factor:success:push'));
  });

  it('a sign-in falls back to a code challenge when push is turned off', async () => {
    const f = pushFixture({ push: { enabled: false } });
    await withPhone(f);
    const outcome = await f.authenticator.startLogin('alice', 'alice-pw', WEB);
    assert.ok(outcome.kind === 'second_factor');
    assert.equal(outcome.challenge.method, 'totp');
    assert.equal(outcome.push, undefined);
    assert.equal(f.store.events.filter((e) => e.type === 'auth.push_sent').length, 0);
  });

  it('an answer signed by another device is refused and leaves the request pending', async () => {
    const f = pushFixture();
    const alicePhone = await withPhone(f);
    const bobPhone = await withPhone(f, 'bob');
    const { challenge, request } = await pushSignIn(f);
    const [view] = await f.push.requestsForDevice(alicePhone.device, 0);
    assert.ok(view);

    // Bob's registered phone, signing for Alice's request.
    const byBob = await bobPhone.answer(view, 'approve', { number: request.number });
    assert.equal((await failure(f.push.answer(view.id, byBob, PHONE))).code, 'mobile.device_unknown');
    // A key that was never registered, claiming Alice's device id.
    const stranger = await deviceKeyPair();
    const forged = await signAsDevice(
      stranger.privateKey,
      alicePhone.deviceId,
      { rid: view.id, nonce: view.nonce, decision: 'approve', number: request.number },
      ANSWER_TYPE,
    );
    assert.equal((await failure(f.push.answer(view.id, forged, PHONE))).code, 'mobile.device_unknown');
    // A device id that does not exist.
    const unknown = await signAsDevice(
      stranger.privateKey,
      'no-such-device',
      { rid: view.id, nonce: view.nonce, decision: 'approve', number: request.number },
      ANSWER_TYPE,
    );
    assert.equal((await failure(f.push.answer(view.id, unknown, PHONE))).code, 'mobile.device_unknown');

    assert.equal(await stateOf(f, request.id), 'pending');
    assert.equal(
      (await failure(f.authenticator.completeWithPush(challenge.id, request.id, WEB))).code,
      'auth.push_pending',
    );
  });

  it("a device proof is not accepted as an answer (the token's type is checked)", async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const { request } = await pushSignIn(f);
    const confused = await phone.sign(
      { rid: request.id, nonce: request.nonce, decision: 'approve', number: request.number },
      DEVICE_PROOF_TYPE,
    );
    assert.equal((await failure(f.push.answer(request.id, confused, PHONE))).code, 'mobile.device_unknown');
    assert.equal(await stateOf(f, request.id), 'pending');
  });

  it('a replayed answer is refused', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const { request } = await pushSignIn(f);
    const token = await phone.answer(request, 'approve', { number: request.number });
    assert.equal((await f.push.answer(request.id, token, PHONE)).state, 'approved');
    assert.equal((await failure(f.push.answer(request.id, token, PHONE))).code, 'mobile.request_answered');
    assert.equal(f.store.events.filter((e) => e.type === 'auth.push_answer').length, 1);
  });

  it('an answer whose nonce is wrong is refused', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const { request } = await pushSignIn(f);
    const token = await phone.answer(request, 'approve', {
      number: request.number,
      nonce: `${request.nonce}x`,
    });
    assert.equal((await failure(f.push.answer(request.id, token, PHONE))).code, 'mobile.device_unknown');
    const missing = await phone.answer(request, 'approve', { number: request.number, nonce: undefined });
    assert.equal((await failure(f.push.answer(request.id, missing, PHONE))).code, 'mobile.device_unknown');
    assert.equal(await stateOf(f, request.id), 'pending');
  });

  it("an answer made for one request cannot answer the user's next one", async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const first = await pushSignIn(f);
    const denial = await phone.answer(first.request, 'deny');
    assert.equal((await f.push.answer(first.request.id, denial, PHONE)).state, 'denied');
    f.clock.advance(1000);
    const second = await pushSignIn(f);
    assert.notEqual(second.request.id, first.request.id);
    const approval = await phone.answer(first.request, 'approve', { number: second.request.number });
    // Sent to the new request's id: the signed request id and nonce are the old ones.
    assert.equal(
      (await failure(f.push.answer(second.request.id, approval, PHONE))).code,
      'mobile.device_unknown',
    );
    assert.equal(await stateOf(f, second.request.id), 'pending');
  });

  it('an unknown decision is refused', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const { request } = await pushSignIn(f);
    const token = await phone.sign({ rid: request.id, nonce: request.nonce, decision: 'maybe' }, ANSWER_TYPE);
    const error = await failure(f.push.answer(request.id, token, PHONE));
    assert.equal(error.code, 'input.invalid');
    assert.equal(error.field, 'decision');
    assert.equal(await stateOf(f, request.id), 'pending');
  });

  it('an expired request cannot be approved', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const { challenge, request } = await pushSignIn(f);
    const token = await phone.answer(request, 'approve', { number: request.number });
    f.clock.advance(120_001);
    assert.equal((await failure(f.push.answer(request.id, token, PHONE))).code, 'mobile.request_expired');
    assert.equal(await stateOf(f, request.id), 'expired');
    assert.deepEqual(await f.push.requestsForDevice(phone.device, 0), [], 'the phone no longer shows it');
    assert.equal(
      (await failure(f.authenticator.completeWithPush(challenge.id, request.id, WEB))).code,
      'auth.push_denied',
    );
  });

  it('a request left unanswered past its time cannot complete the sign-in', async () => {
    const f = pushFixture();
    await withPhone(f);
    const { challenge, request } = await pushSignIn(f);
    f.clock.advance(120_001);
    assert.equal(
      (await failure(f.authenticator.completeWithPush(challenge.id, request.id, WEB))).code,
      'auth.push_denied',
    );
    assert.equal(await f.push.stateOf(request.id), 'expired');
  });

  it('a wrong number denies the sign-in and counts as one failure', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const { challenge, request } = await pushSignIn(f);
    const [view] = await f.push.requestsForDevice(phone.device, 0);
    const wrong = view?.choices.find((n) => n !== request.number);
    assert.ok(wrong !== undefined);
    const outcome = await f.push.answer(
      request.id,
      await phone.answer(request, 'approve', { number: wrong }),
      PHONE,
    );
    assert.deepEqual(outcome, { state: 'denied', reason: 'wrong_number' });
    assert.equal(await userFailures(f), 1);
    const error = await failure(f.authenticator.completeWithPush(challenge.id, request.id, WEB));
    assert.equal(error.code, 'auth.push_denied');
    assert.equal(await userFailures(f), 1, 'the denial is not counted twice');
    assert.equal(await f.store.getChallenge(challenge.id), undefined, 'the denial ends the sign-in');
  });

  it("a wrong number counts against the sign-in's address, not the phone's network", async () => {
    // The phone often shares an address with many others (the office Wi-Fi, a carrier's NAT): the
    // guess is the sign-in's, and its address is the one to slow down.
    const f = pushFixture();
    const phone = await withPhone(f);
    const { request } = await pushSignIn(f, ATTACKER);
    const wrong = request.decoys[0];
    await f.push.answer(request.id, await phone.answer(request, 'approve', { number: wrong }), PHONE);
    assert.equal((await f.store.getCounter(`addr:${ATTACKER.clientAddress}`))?.failures, 1);
    assert.equal(await f.store.getCounter(`addr:${PHONE.clientAddress}`), undefined);
  });

  it('a user who denies the push ends the sign-in without counting a failure', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const { challenge, request } = await pushSignIn(f);
    assert.deepEqual(await f.push.answer(request.id, await phone.answer(request, 'deny'), PHONE), {
      state: 'denied',
      reason: 'user',
    });
    assert.equal(
      (await failure(f.authenticator.completeWithPush(challenge.id, request.id, WEB))).code,
      'auth.push_denied',
    );
    assert.equal(await userFailures(f), 0);
  });

  it('a second sign-in while one push is pending does not create a second push', async () => {
    const f = pushFixture();
    await withPhone(f);
    const first = await pushSignIn(f);
    const again = await pushSignIn(f);
    assert.equal(again.request.id, first.request.id, 'a reload joins the pending push');
    assert.equal(f.store.events.filter((e) => e.type === 'auth.push_sent').length, 1);

    const challengesBefore = f.store.events.length;
    const error = await failure(f.authenticator.startLogin('alice', 'alice-pw', ATTACKER));
    assert.equal(error.code, 'auth.push_pending');
    assert.ok(f.store.events.length > challengesBefore, 'the refusal is audited');
    const alice = await f.store.findUserByName('alice');
    assert.ok(alice);
    const pending = await f.store.listPendingPushRequests(alice.id, f.clock.now());
    assert.deepEqual(
      pending.map((r) => r.id),
      [first.request.id],
    );
    assert.equal(f.store.events.filter((e) => e.type === 'auth.push_sent').length, 1);
  });

  it('one approval completes only one sign-in', async () => {
    // Two sign-ins from the same place share the pending push (a reload, a RADIUS retransmit, or
    // someone else behind the same NAS or NAT with the password): the user's one approval must not
    // let both through.
    const f = pushFixture();
    const phone = await withPhone(f);
    const first = await pushSignIn(f);
    const second = await pushSignIn(f);
    assert.equal(second.request.id, first.request.id);
    await f.push.answer(
      first.request.id,
      await phone.answer(first.request, 'approve', { number: first.request.number }),
      PHONE,
    );
    await f.authenticator.completeWithPush(second.challenge.id, second.request.id, WEB);
    const error = await failure(f.authenticator.completeWithPush(first.challenge.id, first.request.id, WEB));
    assert.equal(error.code, 'auth.push_denied');
  });

  it('an out-of-band push (Basic, RADIUS) asks the phone only to approve or deny', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const outcome = await f.authenticator.startLogin('alice', 'alice-pw', WEB, { ask: 'out-of-band' });
    assert.ok(outcome.kind === 'second_factor' && outcome.push);
    const request = outcome.push;
    assert.equal(request.numberMatching, false);
    const [view] = await f.push.requestsForDevice(phone.device, 0);
    assert.deepEqual(view?.choices, [], 'no number to pick');
    assert.equal(
      (await f.push.answer(request.id, await phone.answer(request, 'approve'), PHONE)).state,
      'approved',
    );
    const done = await f.authenticator.completeWithPush(outcome.challenge.id, request.id, WEB);
    assert.equal(done.level, 2);
  });

  it('a code sent with the password sends no push', async () => {
    const f = pushFixture();
    await withPhone(f);
    const outcome = await f.authenticator.startLogin('alice', 'alice-pw', WEB, { ask: 'code' });
    assert.ok(outcome.kind === 'second_factor');
    assert.equal(outcome.challenge.method, 'totp');
    assert.equal(outcome.push, undefined);
    assert.equal(f.store.events.filter((e) => e.type === 'auth.push_sent').length, 0);
  });

  it('a sign-in on a page never joins a push that has no number to match', async () => {
    // Out of band first (no number), then the page from the same place: joining would show a number
    // on the page that the phone never asks for, and one approve would let both through.
    const f = pushFixture();
    await withPhone(f);
    const first = await f.authenticator.startLogin('alice', 'alice-pw', WEB, { ask: 'out-of-band' });
    assert.ok(first.kind === 'second_factor' && first.push);
    let page: PrimaryOutcome | undefined;
    try {
      page = await f.authenticator.startLogin('alice', 'alice-pw', WEB);
    } catch (error) {
      assert.ok(isMfaError(error, 'auth.push_pending'), 'refused as another pending push, or joined');
    }
    if (page) {
      assert.ok(page.kind === 'second_factor' && page.push);
      assert.equal(page.push.numberMatching, true, 'the page sign-in got a push without number matching');
    }
  });

  it('an approval given before the sign-in began cannot complete it', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const old = await pushSignIn(f);
    await f.push.answer(
      old.request.id,
      await phone.answer(old.request, 'approve', { number: old.request.number }),
      PHONE,
    );
    await f.authenticator.completeWithPush(old.challenge.id, old.request.id, WEB);

    f.clock.advance(1000);
    const fresh = await pushSignIn(f);
    assert.notEqual(fresh.request.id, old.request.id);
    const stale = await failure(f.authenticator.completeWithPush(fresh.challenge.id, old.request.id, WEB));
    assert.equal(stale.code, 'auth.push_denied');
    // The sign-in itself is not harmed: its own approval still completes it.
    await f.push.answer(
      fresh.request.id,
      await phone.answer(fresh.request, 'approve', { number: fresh.request.number }),
      PHONE,
    );
    const done = await f.authenticator.completeWithPush(fresh.challenge.id, fresh.request.id, WEB);
    assert.equal(done.level, 2);
  });

  it("another user's approved request cannot complete a sign-in", async () => {
    const f = pushFixture();
    await withPhone(f);
    const bobPhone = await withPhone(f, 'bob');
    const bob = await pushSignIn(f, WEB, 'bob');
    await f.push.answer(
      bob.request.id,
      await bobPhone.answer(bob.request, 'approve', { number: bob.request.number }),
      PHONE,
    );
    const alice = await pushSignIn(f);
    const error = await failure(f.authenticator.completeWithPush(alice.challenge.id, bob.request.id, WEB));
    assert.equal(error.code, 'auth.push_denied');
  });

  it('completeWithPush while still pending does not spend an attempt', async () => {
    const f = pushFixture();
    await withPhone(f);
    const { challenge, request } = await pushSignIn(f);
    for (let i = 0; i < 5; i++) {
      const error = await failure(f.authenticator.completeWithPush(challenge.id, request.id, WEB));
      assert.equal(error.code, 'auth.push_pending');
    }
    assert.equal((await f.store.getChallenge(challenge.id))?.attempts, 0);
    assert.equal(await userFailures(f), 0);
  });

  it('a code instead of the push completes the sign-in and cancels the push', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const { challenge, request } = await pushSignIn(f);
    const code = await phoneCode(f, phone.device.factorId);
    const done = await f.authenticator.completeLogin(challenge.id, code, WEB);
    assert.equal(done.level, 2);
    const cancelled = await f.store.getPushRequest(request.id);
    assert.equal(cancelled?.state, 'cancelled');
    assert.equal(cancelled?.reason, 'finished_another_way');
    assert.deepEqual(await f.push.requestsForDevice(phone.device, 0), []);
    // The phone, late, approves: nothing changes.
    const late = await phone.answer(request, 'approve', { number: request.number });
    assert.equal((await failure(f.push.answer(request.id, late, PHONE))).code, 'mobile.request_answered');
  });

  it('a code instead of the push is refused when codeWithPush is off', async () => {
    const f = pushFixture({ auth: { codeWithPush: false } });
    const phone = await withPhone(f);
    const { challenge, request } = await pushSignIn(f);
    const code = await phoneCode(f, phone.device.factorId);
    const error = await failure(f.authenticator.completeLogin(challenge.id, code, WEB));
    assert.equal(error.code, 'auth.invalid_code');
    assert.equal(await stateOf(f, request.id), 'pending');
  });

  it('deny and report fraud blocks the user, revokes their sessions and notifies administrators', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const earlier = f.clock.now();
    f.clock.advance(1000);
    const { challenge, request } = await pushSignIn(f, ATTACKER);
    const outcome = await f.push.answer(request.id, await phone.answer(request, 'fraud'), PHONE);
    assert.deepEqual(outcome, { state: 'fraud', reason: 'user' });
    assert.equal((await f.store.findUserByName('alice'))?.status, 'blocked');
    assert.equal(await f.sessions.isRevoked({ id: 'x', username: 'alice', issuedAt: earlier }), true);
    assert.equal(f.fraudAlerts.length, 1);
    assert.deepEqual(
      { ...f.fraudAlerts[0] },
      {
        at: f.clock.now(),
        username: 'alice',
        displayName: null,
        application: ATTACKER.application,
        clientAddress: ATTACKER.clientAddress,
        channel: 'web',
        requestId: request.id,
        blocked: true,
      },
    );
    const reported = f.store.events.filter((e) => e.type === 'auth.fraud_report');
    assert.equal(reported.length, 1);
    assert.equal(reported[0]?.reason, 'user_blocked');
    assert.equal(
      (await failure(f.authenticator.completeWithPush(challenge.id, request.id, ATTACKER))).code,
      'auth.push_denied',
    );
    assert.equal((await failure(f.authenticator.startLogin('alice', 'alice-pw', WEB))).code, 'auth.locked');
  });

  it('a fraud report without fraudBlock notifies administrators but leaves the user enabled', async () => {
    const f = pushFixture({ push: { fraudBlock: false } });
    const phone = await withPhone(f);
    const earlier = f.clock.now();
    const { request } = await pushSignIn(f, ATTACKER);
    await f.push.answer(request.id, await phone.answer(request, 'fraud'), PHONE);
    assert.equal((await f.store.findUserByName('alice'))?.status, 'enabled');
    assert.equal(await f.sessions.isRevoked({ id: 'x', username: 'alice', issuedAt: earlier }), false);
    assert.equal(f.fraudAlerts.length, 1);
    assert.equal(f.fraudAlerts[0]?.blocked, false);
    assert.equal(f.store.events.find((e) => e.type === 'auth.fraud_report')?.reason, 'reported');
  });

  it('a failing notifier does not undo the block; the failure is reported as a warning', async () => {
    const f = pushFixture({
      notifier: {
        fraudReported: async () => {
          throw new Error('smtp down');
        },
      },
    });
    const phone = await withPhone(f);
    const { request } = await pushSignIn(f, ATTACKER);
    const outcome = await f.push.answer(request.id, await phone.answer(request, 'fraud'), PHONE);
    assert.equal(outcome.state, 'fraud');
    assert.equal((await f.store.findUserByName('alice'))?.status, 'blocked');
    assert.equal(f.warnings.length, 1);
    assert.equal(f.warnings[0]?.message, 'fraud notification failed');
  });

  it('in PIN mode an approval needs the right PIN', async () => {
    const f = pushFixture({ push: { requirePin: true } });
    const phone = await withPhone(f);
    await f.enrollment.setPin('alice', '4829', PORTAL_OUTSIDE, { secondFactorAt: f.clock.now() });

    const withoutPin = await pushSignIn(f);
    assert.equal(withoutPin.request.pinRequired, true);
    const [view] = await f.push.requestsForDevice(phone.device, 0);
    assert.equal(view?.pinRequired, true);
    const noPin = await phone.answer(withoutPin.request, 'approve', { number: withoutPin.request.number });
    assert.deepEqual(await f.push.answer(withoutPin.request.id, noPin, PHONE), {
      state: 'denied',
      reason: 'wrong_pin',
    });

    const wrongPin = await pushSignIn(f);
    const badPin = await phone.answer(wrongPin.request, 'approve', {
      number: wrongPin.request.number,
      pin: '4828',
    });
    assert.deepEqual(await f.push.answer(wrongPin.request.id, badPin, PHONE), {
      state: 'denied',
      reason: 'wrong_pin',
    });
    assert.equal(await userFailures(f), 2, 'each wrong PIN counts');

    const rightPin = await pushSignIn(f);
    const good = await phone.answer(rightPin.request, 'approve', {
      number: rightPin.request.number,
      pin: '4829',
    });
    assert.deepEqual(await f.push.answer(rightPin.request.id, good, PHONE), {
      state: 'approved',
      reason: null,
    });
    const done = await f.authenticator.completeWithPush(rightPin.challenge.id, rightPin.request.id, WEB);
    assert.equal(done.level, 2);
  });

  it('without PIN mode, or for a user without a PIN, no PIN is asked', async () => {
    const f = pushFixture({ push: { requirePin: true } });
    const phone = await withPhone(f);
    assert.equal(phone.activated.pinRequired, false);
    const { request } = await pushSignIn(f);
    assert.equal(request.pinRequired, false);
    const token = await phone.answer(request, 'approve', { number: request.number });
    assert.equal((await f.push.answer(request.id, token, PHONE)).state, 'approved');
  });

  it('a removed device can no longer answer', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    await f.userAdmin.enrollTotp('alice', f.admin);
    const { request } = await pushSignIn(f);
    await f.push.forgetDevice(phone.device, PHONE);
    assert.equal(await f.store.getMobileDevice(phone.deviceId), undefined);
    const token = await phone.answer(request, 'approve', { number: request.number });
    assert.equal((await failure(f.push.answer(request.id, token, PHONE))).code, 'mobile.device_unknown');
    assert.equal(
      f.store.events.find((e) => e.type === 'enrollment.mobile_removed')?.reason,
      'removed_on_device',
    );
  });
});

describe('waiting for answers and requests', () => {
  it('a sign-in waiting on its push wakes as soon as the phone answers', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const { request } = await pushSignIn(f);
    const waiting = f.push.waitForAnswer(request.id, 60_000);
    await f.push.answer(
      request.id,
      await phone.answer(request, 'approve', { number: request.number }),
      PHONE,
    );
    assert.equal(await waiting, 'approved');
    assert.deepEqual(f.pushHub.size(), { requests: 0, users: 0 });
  });

  it('a wait that times out reports pending, and a request past its time reports expired', async () => {
    const f = pushFixture();
    await withPhone(f);
    const { request } = await pushSignIn(f);
    assert.equal(await f.push.waitForAnswer(request.id, 5), 'pending');
    f.clock.advance(120_000);
    assert.equal(await f.push.waitForAnswer(request.id, 60_000), 'expired', 'never waits past the expiry');
    assert.equal(await f.push.waitForAnswer('no-such-request', 5), undefined);
    assert.deepEqual(f.pushHub.size(), { requests: 0, users: 0 });
  });

  it("a phone's long poll wakes when a sign-in opens a push", async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const polling = f.push.requestsForDevice(phone.device, 60_000);
    const { request } = await pushSignIn(f);
    const views = await polling;
    assert.deepEqual(
      views.map((v) => v.id),
      [request.id],
    );
    assert.deepEqual(f.pushHub.size(), { requests: 0, users: 0 });
  });
  it('a sign-in does not miss an answer given while it reads the request', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const { request } = await pushSignIn(f);
    const token = await phone.answer(request, 'approve', { number: request.number });
    // The answer lands after the waiter has read the request as pending, before it waits.
    const read = f.store.getPushRequest;
    let raced = false;
    f.store.getPushRequest = async (id) => {
      const found = await read(id);
      if (!raced) {
        raced = true;
        await f.push.answer(id, token, PHONE);
      }
      return found;
    };
    const started = performance.now();
    assert.equal(await f.push.waitForAnswer(request.id, 1_000), 'approved');
    assert.ok(performance.now() - started < 500, 'woken by the answer, not by the timeout');
  });

  it("a phone's long poll does not miss a push opened while it reads the requests", async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const list = f.store.listPendingPushRequests;
    let raced = false;
    f.store.listPendingPushRequests = async (userId, at) => {
      const found = await list(userId, at);
      if (!raced) {
        raced = true;
        await f.authenticator.startLogin('alice', 'alice-pw', WEB);
      }
      return found;
    };
    const started = performance.now();
    assert.equal((await f.push.requestsForDevice(phone.device, 1_000)).length, 1);
    assert.ok(performance.now() - started < 500, 'woken by the announcement, not by the timeout');
  });
});

describe('web push', () => {
  const SUBSCRIPTION = {
    endpoint: 'https://push.example.net/send/abc',
    keys: { p256dh: 'B'.repeat(87), auth: 'A'.repeat(22) },
  };

  it('a subscription needs an https endpoint and well-formed keys', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const cases: Array<[unknown, string]> = [
      [{ ...SUBSCRIPTION, endpoint: 'http://push.example.net/send/abc' }, 'endpoint'],
      [{ ...SUBSCRIPTION, endpoint: 'javascript:alert(1)' }, 'endpoint'],
      [{ ...SUBSCRIPTION, keys: { ...SUBSCRIPTION.keys, p256dh: 'short' } }, 'keys.p256dh'],
      [{ ...SUBSCRIPTION, keys: { ...SUBSCRIPTION.keys, auth: 'A'.repeat(23) } }, 'keys.auth'],
      [undefined, 'endpoint'],
    ];
    for (const [input, field] of cases) {
      const error = await failure(f.push.subscribe(phone.device, input));
      assert.equal(error.code, 'input.invalid');
      assert.equal(error.field, field);
    }
    assert.equal((await f.store.getMobileDevice(phone.deviceId))?.pushSubscription, null);
    await f.push.subscribe(phone.device, SUBSCRIPTION);
    assert.deepEqual((await f.store.getMobileDevice(phone.deviceId))?.pushSubscription, {
      endpoint: SUBSCRIPTION.endpoint,
      ...SUBSCRIPTION.keys,
    });
    await f.push.subscribe(phone.device, null);
    assert.equal((await f.store.getMobileDevice(phone.deviceId))?.pushSubscription, null);
  });

  it('a subscription the push service reports gone is dropped, and a failed push does not fail the sign-in', async () => {
    const sent: string[] = [];
    let answer: 'sent' | 'gone' | 'fail' = 'gone';
    const f = pushFixture({
      pushSender: {
        send: async (_subscription, message) => {
          sent.push(message.requestId);
          if (answer === 'fail') throw new Error('push service down');
          return answer;
        },
      },
    });
    const phone = await withPhone(f);
    await f.push.subscribe(phone.device, SUBSCRIPTION);
    const { request } = await pushSignIn(f);
    await settle();
    assert.deepEqual(sent, [request.id]);
    assert.equal((await f.store.getMobileDevice(phone.deviceId))?.pushSubscription, null);

    await f.push.subscribe(phone.device, SUBSCRIPTION);
    answer = 'fail';
    await f.push.answer(request.id, await phone.answer(request, 'deny'), PHONE);
    const next = await pushSignIn(f);
    await settle();
    assert.deepEqual(sent, [request.id, next.request.id]);
    assert.equal(f.warnings[0]?.message, 'web push failed');
    assert.notEqual((await f.store.getMobileDevice(phone.deviceId))?.pushSubscription, null);
  });
});

describe('device proofs', () => {
  it('a fresh proof for this call authenticates the device', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const device = await f.push.authenticateDevice(
      await phone.proof('GET', REQUESTS_PATH),
      'GET',
      REQUESTS_PATH,
    );
    assert.equal(device.id, phone.deviceId);
    assert.equal((await f.store.getMobileDevice(phone.deviceId))?.lastSeenAt, f.clock.now());
  });

  it('a proof for another path or method is refused', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const other = await phone.proof('GET', '/mobile/v1/devices');
    assert.equal(
      (await failure(f.push.authenticateDevice(other, 'GET', REQUESTS_PATH))).code,
      'mobile.device_unknown',
    );
    const post = await phone.proof('POST', REQUESTS_PATH);
    assert.equal(
      (await failure(f.push.authenticateDevice(post, 'GET', REQUESTS_PATH))).code,
      'mobile.device_unknown',
    );
  });

  it('a stale proof is refused, either way of the allowed drift', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const now = Math.floor(f.clock.now() / 1000);
    const atLimit = await phone.proof('GET', REQUESTS_PATH, now - 120);
    assert.equal((await f.push.authenticateDevice(atLimit, 'GET', REQUESTS_PATH)).id, phone.deviceId);
    for (const iat of [now - 121, now + 121]) {
      const stale = await phone.proof('GET', REQUESTS_PATH, iat);
      assert.equal(
        (await failure(f.push.authenticateDevice(stale, 'GET', REQUESTS_PATH))).code,
        'mobile.device_unknown',
      );
    }
    const noIat = await phone.sign({ htm: 'GET', htu: REQUESTS_PATH }, DEVICE_PROOF_TYPE);
    assert.equal(
      (await failure(f.push.authenticateDevice(noIat, 'GET', REQUESTS_PATH))).code,
      'mobile.device_unknown',
    );
  });

  it("another device's signature is refused", async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const stranger = await deviceKeyPair();
    const forged = await signAsDevice(
      stranger.privateKey,
      phone.deviceId,
      { htm: 'GET', htu: REQUESTS_PATH, iat: Math.floor(f.clock.now() / 1000) },
      DEVICE_PROOF_TYPE,
    );
    assert.equal(
      (await failure(f.push.authenticateDevice(forged, 'GET', REQUESTS_PATH))).code,
      'mobile.device_unknown',
    );
    assert.equal((await f.store.getMobileDevice(phone.deviceId))?.lastSeenAt, null);
  });

  it('an answer token, a malformed token and an oversized token are not proofs', async () => {
    const f = pushFixture();
    const phone = await withPhone(f);
    const answerTyped = await phone.sign(
      { htm: 'GET', htu: REQUESTS_PATH, iat: Math.floor(f.clock.now() / 1000) },
      ANSWER_TYPE,
    );
    for (const token of [answerTyped, 'not.a.jws', 'x'.repeat(5000), undefined, 42]) {
      assert.equal(
        (await failure(f.push.authenticateDevice(token, 'GET', REQUESTS_PATH))).code,
        'mobile.device_unknown',
      );
    }
  });
});

/** Lets fire-and-forget work (the Web Push wake-up) run to its end. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** The current code of the phone's offline seed, read from the store as the app would compute it. */
async function phoneCode(f: CoreFixture, factorId: string): Promise<string> {
  const alice = await f.store.findUserByName('alice');
  const factor = (await f.store.listTotpFactors(alice?.id ?? '')).find((x) => x.id === factorId);
  assert.ok(factor, "the phone's seed is a TOTP factor of the user");
  return generate({ secret: factor.secret, epoch: Math.floor(f.clock.now() / 1000) });
}
