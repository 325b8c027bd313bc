import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate } from 'otplib';
import { SIGN_IN_FAILED } from '../../src/core/errors.ts';
import { base32Decode } from '../../src/core/secrets/base32.ts';
import { coreFixture, PORTAL_OUTSIDE } from '../helpers/core-fixture.ts';
import { failure } from '../helpers/users.ts';

type Fixture = ReturnType<typeof coreFixture>;

const ANSWERS: Record<string, string> = {
  'first-pet': 'Fluffy',
  'birth-city': 'New York',
  'first-school': 'Hillside Primary',
};

/** Alice has a TOTP factor and has answered three questions (two are asked at sign-in). */
async function aliceWithAnswers(f: Fixture) {
  await f.userAdmin.add({ username: 'alice' }, f.admin);
  const { secretBase32 } = await f.userAdmin.enrollTotp('alice', f.admin);
  const proof = { secondFactorAt: f.clock.now() };
  await f.enrollment.setSecurityAnswers(
    'alice',
    Object.entries(ANSWERS).map(([questionId, answer]) => ({ questionId, answer })),
    PORTAL_OUTSIDE,
    proof,
  );
  return {
    code: () => generate({ secret: base32Decode(secretBase32), epoch: Math.floor(f.clock.now() / 1000) }),
  };
}

async function challengeFor(f: Fixture) {
  const primary = await f.authenticator.startLogin('alice', 'alice-pw', PORTAL_OUTSIDE);
  assert.ok(primary.kind === 'second_factor');
  const ids = await f.authenticator.fallbackQuestions(primary.challenge.id, PORTAL_OUTSIDE);
  return { challengeId: primary.challenge.id, ids };
}

const rightAnswers = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, ANSWERS[id] ?? '']));

describe('security questions instead of the second factor', () => {
  test('the right answers to the questions asked complete the sign-in, audited as security_questions', async () => {
    const f = coreFixture();
    await aliceWithAnswers(f);
    const { challengeId, ids } = await challengeFor(f);
    assert.equal(ids.length, 2);
    assert.ok(ids.every((id) => id in ANSWERS));
    const done = await f.authenticator.completeWithAnswers(
      challengeId,
      ids,
      rightAnswers(ids),
      PORTAL_OUTSIDE,
    );
    assert.equal(done.level, 2);
    assert.equal(done.username, 'alice');
    const audited = f.store.events.filter((e) => e.type === 'auth.second_factor').at(-1);
    assert.equal(audited?.outcome, 'success');
    assert.equal(audited?.reason, 'security_questions');
  });

  test('answers are normalised at sign-in too: case and spaces do not matter', async () => {
    const f = coreFixture();
    await aliceWithAnswers(f);
    const { challengeId, ids } = await challengeFor(f);
    const sloppy = Object.fromEntries(
      ids.map((id) => [id, `  ${(ANSWERS[id] ?? '').toUpperCase().replace(' ', '   ')}. `]),
    );
    const done = await f.authenticator.completeWithAnswers(challengeId, ids, sloppy, PORTAL_OUTSIDE);
    assert.equal(done.level, 2);
  });

  test('a wrong security answer fails the whole fallback', async () => {
    const f = coreFixture();
    await aliceWithAnswers(f);
    const { challengeId, ids } = await challengeFor(f);
    const [first = '', second = ''] = ids;
    const oneWrong = { ...rightAnswers(ids), [second]: 'not it' };
    const error = await failure(
      f.authenticator.completeWithAnswers(challengeId, ids, oneWrong, PORTAL_OUTSIDE),
    );
    assert.equal(error.code, 'auth.invalid_code');
    const missing = { [first]: ANSWERS[first] ?? '' };
    const again = await failure(
      f.authenticator.completeWithAnswers(challengeId, ids, missing, PORTAL_OUTSIDE),
    );
    assert.equal(again.code, 'auth.invalid_code');
    const audited = f.store.events.filter((e) => e.type === 'auth.second_factor' && e.outcome === 'failure');
    assert.equal(audited.length, 2);
    assert.equal(audited[0]?.reason, 'auth.invalid_code');
  });

  test('the same questions are asked for one challenge, and only those are accepted', async () => {
    const f = coreFixture({
      regulation: { user: { maxFailures: 100, windowSeconds: 300, banSeconds: 900 } },
    });
    await aliceWithAnswers(f);
    const { challengeId, ids } = await challengeFor(f);
    for (let i = 0; i < 5; i++)
      assert.deepEqual(await f.authenticator.fallbackQuestions(challengeId, PORTAL_OUTSIDE), ids);
    const other = Object.keys(ANSWERS).find((id) => !ids.includes(id)) ?? '';
    const swapped = [ids[0] ?? '', other];
    const error = await failure(
      f.authenticator.completeWithAnswers(challengeId, swapped, rightAnswers(swapped), PORTAL_OUTSIDE),
    );
    assert.equal(error.code, 'auth.invalid_code', 'right answers to questions not asked do not count');
    const repeated = [ids[0] ?? '', ids[0] ?? ''];
    await failure(
      f.authenticator.completeWithAnswers(challengeId, repeated, rightAnswers(ids), PORTAL_OUTSIDE),
    );
    // Different challenges ask different subsets sooner or later.
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add((await challengeFor(f)).ids.toSorted().join(','));
    assert.ok(seen.size > 1);
  });

  test('security-question tries share the challenge attempts and count towards the lockout', async () => {
    const f = coreFixture();
    const { code } = await aliceWithAnswers(f);
    const { challengeId, ids } = await challengeFor(f);
    const wrong = Object.fromEntries(ids.map((id) => [id, 'nope']));
    const wrongCode = (await code()) === '000000' ? '000001' : '000000';
    await failure(f.authenticator.completeWithAnswers(challengeId, ids, wrong, PORTAL_OUTSIDE));
    await failure(f.authenticator.completeLogin(challengeId, wrongCode, PORTAL_OUTSIDE));
    await failure(f.authenticator.completeWithAnswers(challengeId, ids, wrong, PORTAL_OUTSIDE));
    const after = await failure(
      f.authenticator.completeWithAnswers(challengeId, ids, rightAnswers(ids), PORTAL_OUTSIDE),
    );
    assert.equal(
      after.code,
      'auth.challenge_expired',
      'the right answers after the last attempt do not pass',
    );
    const locked = await failure(f.authenticator.startLogin('alice', 'alice-pw', PORTAL_OUTSIDE));
    assert.equal(locked.code, 'auth.locked');
    assert.equal(locked.publicMessage, SIGN_IN_FAILED);
  });

  test('a challenge completed with security questions is single use', async () => {
    const f = coreFixture();
    await aliceWithAnswers(f);
    const { challengeId, ids } = await challengeFor(f);
    await f.authenticator.completeWithAnswers(challengeId, ids, rightAnswers(ids), PORTAL_OUTSIDE);
    const again = await failure(
      f.authenticator.completeWithAnswers(challengeId, ids, rightAnswers(ids), PORTAL_OUTSIDE),
    );
    assert.equal(again.code, 'auth.challenge_expired');
    assert.equal(
      (await failure(f.authenticator.fallbackQuestions(challengeId, PORTAL_OUTSIDE))).code,
      'auth.challenge_expired',
    );
  });

  test('no questions are asked when the fallback is off or the user answered too few', async () => {
    const off = coreFixture({
      enrollment: {
        securityQuestions: { count: 3, answersRequired: 0, questionIds: Object.keys(ANSWERS) },
      },
    });
    await off.userAdmin.add({ username: 'alice' }, off.admin);
    await off.userAdmin.enrollTotp('alice', off.admin);
    const user = await off.userAdmin.find('alice');
    await off.store.replaceSecurityAnswers(
      user.id,
      await Promise.all(
        Object.entries(ANSWERS).map(async ([questionId, a]) => ({
          questionId,
          answerHash: await off.hasher.hash(a),
        })),
      ),
      off.clock.now(),
    );
    const { challengeId, ids } = await challengeFor(off);
    assert.deepEqual(ids, []);
    const error = await failure(
      off.authenticator.completeWithAnswers(challengeId, Object.keys(ANSWERS), ANSWERS, PORTAL_OUTSIDE),
    );
    assert.equal(error.code, 'auth.invalid_code');

    const few = coreFixture();
    await few.userAdmin.add({ username: 'alice' }, few.admin);
    await few.userAdmin.enrollTotp('alice', few.admin);
    const alice = await few.userAdmin.find('alice');
    await few.store.replaceSecurityAnswers(
      alice.id,
      [{ questionId: 'first-pet', answerHash: await few.hasher.hash('fluffy') }],
      few.clock.now(),
    );
    assert.deepEqual((await challengeFor(few)).ids, []);
  });

  test('questions asked through one channel cannot be answered through another', async () => {
    const f = coreFixture();
    await aliceWithAnswers(f);
    const { challengeId, ids } = await challengeFor(f);
    const web = { channel: 'web' as const, clientAddress: PORTAL_OUTSIDE.clientAddress };
    assert.equal(
      (await failure(f.authenticator.fallbackQuestions(challengeId, web))).code,
      'auth.challenge_expired',
    );
    assert.equal(
      (await failure(f.authenticator.completeWithAnswers(challengeId, ids, rightAnswers(ids), web))).code,
      'auth.challenge_expired',
    );
  });
});
