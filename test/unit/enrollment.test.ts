import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate } from 'otplib';
import type { ChangeProof } from '../../src/core/enrollment/types.ts';
import { base32Decode, base32Encode } from '../../src/core/secrets/base32.ts';
import { coreFixture, PORTAL_OFFICE, PORTAL_OUTSIDE } from '../helpers/core-fixture.ts';
import { failure } from '../helpers/users.ts';

type Fixture = ReturnType<typeof coreFixture>;

const PASSWORD_ONLY: ChangeProof = { secondFactorAt: null };
const codeFor = (secretBase32: string, ms: number) =>
  generate({ secret: base32Decode(secretBase32), epoch: Math.floor(ms / 1000) });

/** A user with one TOTP factor issued by an administrator; `code()` is the app's current code. */
async function withFactor(f: Fixture, username = 'alice') {
  await f.userAdmin.add({ username }, f.admin);
  const { secretBase32, factorId } = await f.userAdmin.enrollTotp(username, f.admin, 'old phone');
  return { factorId, code: () => codeFor(secretBase32, f.clock.now()) };
}

/** A draft seed from the portal and a code for it now. */
async function draft(f: Fixture, username = 'alice') {
  const seed = await f.enrollment.newTotpSeed(username);
  return { ...seed, code: await codeFor(seed.secretBase32, f.clock.now()) };
}

const factorCount = async (f: Fixture, username = 'alice') =>
  (await f.enrollment.overview(username)).factors.length;
const lastEvent = (f: Fixture, type: string) => f.store.events.filter((e) => e.type === type).at(-1);

describe('the change rule (DESIGN §6 rule 10)', () => {
  test('a user who has a factor cannot add or replace one with the password alone', async () => {
    const f = coreFixture();
    await withFactor(f);
    const { secretBase32, code } = await draft(f);
    for (const replace of [false, true]) {
      const error = await failure(
        f.enrollment.confirmTotp('alice', { secretBase32, code, replace }, PORTAL_OFFICE, PASSWORD_ONLY),
      );
      assert.equal(error.code, 'enrollment.step_up_required');
    }
    assert.equal(await factorCount(f), 1, 'nothing was added or removed');
    const audited = lastEvent(f, 'enrollment.totp_added');
    assert.equal(audited?.outcome, 'failure');
    assert.equal(audited?.reason, 'enrollment.step_up_required');
    assert.equal(audited?.actor, 'alice');
    assert.equal(audited?.clientAddress, PORTAL_OFFICE.clientAddress);
  });

  test('a second factor proven within stepUpSeconds lets a user add a factor', async () => {
    const f = coreFixture();
    await withFactor(f);
    const proof = { secondFactorAt: f.clock.now() };
    f.clock.advance(299_000);
    const { secretBase32, code } = await draft(f);
    const added = await f.enrollment.confirmTotp('alice', { secretBase32, code }, PORTAL_OUTSIDE, proof);
    assert.equal(added.kind, 'totp');
    assert.equal(added.label, 'authenticator');
    assert.equal(await factorCount(f), 2);
  });

  test('a second factor older than stepUpSeconds is not enough, and neither is one from the future', async () => {
    const f = coreFixture();
    await withFactor(f);
    const now = f.clock.now();
    const stale: ChangeProof[] = [
      { secondFactorAt: now - 301_000 },
      { secondFactorAt: null, stepUpAt: now - 301_000 },
      { secondFactorAt: now + 3_600_000 },
      { secondFactorAt: Number.NaN },
    ];
    for (const proof of stale) {
      assert.equal(await f.enrollment.changeStatus('alice', PORTAL_OFFICE, proof), 'step_up_required');
      const error = await failure(f.enrollment.removeFactor('alice', 'any', PORTAL_OFFICE, proof));
      assert.equal(error.code, 'enrollment.step_up_required');
    }
    assert.equal(
      await f.enrollment.changeStatus('alice', PORTAL_OFFICE, { secondFactorAt: null, stepUpAt: now - 5000 }),
      'allowed',
    );
  });

  test('first enrollment with the password alone is allowed when the policy says password', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    assert.equal(await f.enrollment.firstEnrollmentAllowed('bob', PORTAL_OUTSIDE), true);
    const { secretBase32, code } = await draft(f, 'bob');
    await f.enrollment.confirmTotp('bob', { secretBase32, code }, PORTAL_OUTSIDE, PASSWORD_ONLY);
    assert.equal(await factorCount(f, 'bob'), 1);
  });

  test('first enrollment outside a trusted network is refused when the policy says trusted-only', async () => {
    const f = coreFixture({ enrollment: { firstEnrollment: 'trusted-networks' } });
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    assert.equal(await f.enrollment.firstEnrollmentAllowed('bob', PORTAL_OUTSIDE), false);
    const { secretBase32, code } = await draft(f, 'bob');
    const error = await failure(
      f.enrollment.confirmTotp('bob', { secretBase32, code }, PORTAL_OUTSIDE, PASSWORD_ONLY),
    );
    assert.equal(error.code, 'enrollment.not_allowed');
    assert.equal(await factorCount(f, 'bob'), 0);
    // A mapped IPv4 address inside the network is the same address.
    const mapped = { ...PORTAL_OFFICE, clientAddress: '::ffff:10.1.2.3' };
    assert.equal(await f.enrollment.firstEnrollmentAllowed('bob', mapped), true);
    await f.enrollment.confirmTotp('bob', { secretBase32, code }, PORTAL_OFFICE, PASSWORD_ONLY);
    assert.equal(await factorCount(f, 'bob'), 1);
  });

  test('first enrollment needs an enrollment window when the policy says window', async () => {
    const f = coreFixture({ enrollment: { firstEnrollment: 'window' } });
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const { secretBase32, code } = await draft(f, 'bob');
    assert.equal(await f.enrollment.changeStatus('bob', PORTAL_OFFICE, PASSWORD_ONLY), 'not_allowed');
    const error = await failure(f.enrollment.setPin('bob', '5831', PORTAL_OFFICE, PASSWORD_ONLY));
    assert.equal(error.code, 'enrollment.not_allowed');
    await f.userAdmin.issueEnrollmentWindow('bob', 1, f.admin);
    await f.enrollment.confirmTotp('bob', { secretBase32, code }, PORTAL_OUTSIDE, PASSWORD_ONLY);
    assert.equal(await factorCount(f, 'bob'), 1);
  });

  test("an administrator's enrollment window lets a user replace a factor with the password alone", async () => {
    const f = coreFixture();
    const old = await withFactor(f);
    const { expiresAt } = await f.userAdmin.issueEnrollmentWindow('alice', 2, f.admin);
    assert.equal((await f.enrollment.overview('alice')).enrollmentWindowUntil, expiresAt);
    const { secretBase32, code } = await draft(f);
    const added = await f.enrollment.confirmTotp(
      'alice',
      { secretBase32, code, label: 'new phone', replace: true },
      PORTAL_OUTSIDE,
      PASSWORD_ONLY,
    );
    const { factors } = await f.enrollment.overview('alice');
    assert.deepEqual(
      factors.map((x) => [x.id, x.label]),
      [[added.id, 'new phone']],
    );
    assert.notEqual(added.id, old.factorId);
    const audited = lastEvent(f, 'enrollment.totp_added');
    assert.equal(audited?.outcome, 'success');
    assert.deepEqual(audited?.details, { factorId: added.id, replaced: 1, source: 'app' });
  });

  test('an expired enrollment window no longer allows a change', async () => {
    const f = coreFixture();
    await withFactor(f);
    await f.userAdmin.issueEnrollmentWindow('alice', 1, f.admin);
    f.clock.advance(3_600_000);
    assert.equal(await f.enrollment.changeStatus('alice', PORTAL_OFFICE, PASSWORD_ONLY), 'step_up_required');
    assert.equal((await f.enrollment.overview('alice')).enrollmentWindowUntil, null);
  });

  test('a disabled or blocked user cannot change anything, whatever the session says', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    await f.userAdmin.disable('bob', f.admin);
    const { secretBase32, code } = await draft(f, 'bob');
    const proof = { secondFactorAt: f.clock.now() };
    assert.equal(
      (await failure(f.enrollment.confirmTotp('bob', { secretBase32, code }, PORTAL_OFFICE, proof))).code,
      'auth.user_disabled',
    );
    assert.equal(
      (await failure(f.enrollment.setLanguage('bob', 'de', PORTAL_OFFICE))).code,
      'auth.user_disabled',
    );
    assert.equal(await factorCount(f, 'bob'), 0);
  });

  test('an unknown user is user.not_found', async () => {
    const f = coreFixture();
    assert.equal((await failure(f.enrollment.overview('nobody'))).code, 'user.not_found');
    assert.equal(
      (await failure(f.enrollment.setPin('nobody', '5831', PORTAL_OFFICE, PASSWORD_ONLY))).code,
      'user.not_found',
    );
  });
});

describe('TOTP enrollment', () => {
  test('nothing is saved unless the code verifies', async () => {
    const f = coreFixture({
      regulation: { user: { maxFailures: 100, windowSeconds: 300, banSeconds: 900 } },
    });
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const { secretBase32, code } = await draft(f, 'bob');
    const wrong = code === '000000' ? '000001' : '000000';
    for (const bad of [wrong, '', '12345', 'abcdef', '1234567']) {
      const error = await failure(
        f.enrollment.confirmTotp('bob', { secretBase32, code: bad }, PORTAL_OFFICE, PASSWORD_ONLY),
      );
      assert.equal(error.code, 'auth.invalid_code');
    }
    // A code from another seed does not confirm this one either.
    const other = await draft(f, 'bob');
    await failure(
      f.enrollment.confirmTotp('bob', { secretBase32, code: other.code }, PORTAL_OFFICE, PASSWORD_ONLY),
    );
    assert.equal(await factorCount(f, 'bob'), 0);
    const overview = await f.enrollment.overview('bob');
    assert.equal(overview.user.defaultMethod, null);
    const audited = f.store.events.filter((e) => e.type === 'enrollment.totp_added');
    assert.ok(audited.length >= 6 && audited.every((e) => e.outcome === 'failure'));
    assert.equal(audited[0]?.reason, 'auth.invalid_code');
  });

  test('wrong confirmation codes count towards the lockout', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const { secretBase32, code } = await draft(f, 'bob');
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < 3; i++)
      await failure(
        f.enrollment.confirmTotp('bob', { secretBase32, code: wrong }, PORTAL_OFFICE, PASSWORD_ONLY),
      );
    const locked = await failure(
      f.enrollment.confirmTotp('bob', { secretBase32, code }, PORTAL_OFFICE, PASSWORD_ONLY),
    );
    assert.equal(locked.code, 'auth.locked');
    assert.equal(await factorCount(f, 'bob'), 0);
  });

  test('the code that confirms a new factor cannot also be used to sign in', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const { secretBase32, code } = await draft(f, 'bob');
    await f.enrollment.confirmTotp('bob', { secretBase32, code }, PORTAL_OFFICE, PASSWORD_ONLY);
    const user = (await f.enrollment.overview('bob')).user;
    assert.deepEqual(await f.verifyTotp(user.id, code), { ok: false, reason: 'replayed' });
    f.clock.advance(30_000);
    const next = await codeFor(secretBase32, f.clock.now());
    assert.equal((await f.verifyTotp(user.id, next)).ok, true);
  });

  test('a new TOTP factor becomes the default method only when there is none', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob', phones: ['+15550100002'] }, f.admin);
    const first = await draft(f, 'bob');
    await f.enrollment.confirmTotp('bob', first, PORTAL_OFFICE, PASSWORD_ONLY);
    assert.equal((await f.enrollment.overview('bob')).user.defaultMethod, 'totp');
    const proof = { secondFactorAt: f.clock.now() };
    await f.enrollment.setMethod('bob', 'sms', PORTAL_OFFICE);
    f.clock.advance(30_000);
    await f.enrollment.confirmTotp('bob', await draft(f, 'bob'), PORTAL_OFFICE, proof);
    assert.equal((await f.enrollment.overview('bob')).user.defaultMethod, 'sms');
  });

  test('a new seed is 160 bits, shown once as base32 and as an otpauth URI for the user', async () => {
    const f = coreFixture();
    const seed = await f.enrollment.newTotpSeed('Alice');
    assert.equal(base32Decode(seed.secretBase32).length, 20);
    assert.match(seed.uri, /^otpauth:\/\/totp\/test:alice\?/);
    assert.notEqual((await f.enrollment.newTotpSeed('alice')).secretBase32, seed.secretBase32);
  });

  test('an imported OATH token needs at least 128 bits and a label, and a code from it', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const short = 'JBSWY3DPEHPK3PXP';
    const shortCode = await codeFor(`${short}${short}`, f.clock.now());
    const refused = await failure(
      f.enrollment.importOathToken(
        'bob',
        { secretBase32: short, code: shortCode, label: 'token' },
        PORTAL_OFFICE,
        PASSWORD_ONLY,
      ),
    );
    assert.equal(refused.code, 'input.invalid');
    assert.equal(refused.field, 'secret');
    const secretBase32 = base32Encode(new Uint8Array(16).fill(42));
    const code = await codeFor(secretBase32, f.clock.now());
    const unlabelled = await failure(
      f.enrollment.importOathToken('bob', { secretBase32, code, label: '  ' }, PORTAL_OFFICE, PASSWORD_ONLY),
    );
    assert.equal(unlabelled.field, 'label');
    const added = await f.enrollment.importOathToken(
      'bob',
      { secretBase32: secretBase32.toLowerCase().replace(/(.{4})/g, '$1 '), code, label: 'Token 42' },
      PORTAL_OFFICE,
      PASSWORD_ONLY,
    );
    assert.equal(added.label, 'Token 42');
    assert.deepEqual(lastEvent(f, 'enrollment.totp_added')?.details, {
      factorId: added.id,
      replaced: 0,
      source: 'oath_token',
    });
  });

  test('removing the last TOTP factor is allowed and clears a totp default method', async () => {
    const f = coreFixture();
    const { factorId } = await withFactor(f);
    const proof = { secondFactorAt: f.clock.now() };
    await f.enrollment.removeFactor('alice', factorId, PORTAL_OFFICE, proof);
    const overview = await f.enrollment.overview('alice');
    assert.equal(overview.factors.length, 0);
    assert.equal(overview.user.defaultMethod, null);
    assert.deepEqual(lastEvent(f, 'enrollment.factor_removed')?.details, { factorId, remaining: 0 });
  });

  test("a user cannot remove another user's factor", async () => {
    const f = coreFixture();
    const bobs = await withFactor(f, 'bob');
    await withFactor(f, 'alice');
    const error = await failure(
      f.enrollment.removeFactor('alice', bobs.factorId, PORTAL_OFFICE, { secondFactorAt: f.clock.now() }),
    );
    assert.equal(error.code, 'not_found');
    assert.equal(await factorCount(f, 'bob'), 1);
  });
});

describe('phones, PIN, security answers, method and language', () => {
  test('phones are stored in E.164 and the audit log has counts, not numbers', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const phones = await f.enrollment.setPhones(
      'bob',
      { primary: '+1 (415) 555-0100', backup: '+44 20 7946 0958' },
      PORTAL_OFFICE,
      PASSWORD_ONLY,
    );
    assert.deepEqual(phones, ['+14155550100', '+442079460958']);
    assert.deepEqual((await f.enrollment.overview('bob')).user.phones, phones);
    const audited = lastEvent(f, 'enrollment.phones_changed');
    assert.deepEqual(audited?.details, { count: 2, before: 0 });
    assert.ok(!JSON.stringify(f.store.events).includes('4155550100'));
    await f.enrollment.setPhones('bob', { primary: '+14155550100' }, PORTAL_OFFICE, PASSWORD_ONLY);
    assert.deepEqual((await f.enrollment.overview('bob')).user.phones, ['+14155550100']);
  });

  test('an invalid phone names its field and changes nothing', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const cases: Array<[{ primary?: string; backup?: string }, string]> = [
      [{ primary: '0415 555 0100' }, 'phone'],
      [{ primary: '+0123456789' }, 'phone'],
      [{ primary: '+14155550100', backup: 'call me' }, 'backupPhone'],
      [{ primary: '+14155550100', backup: '+1 415 555 0100' }, 'backupPhone'],
      [{ backup: '+14155550100' }, 'phone'],
    ];
    for (const [input, field] of cases) {
      const error = await failure(f.enrollment.setPhones('bob', input, PORTAL_OFFICE, PASSWORD_ONLY));
      assert.equal(error.code, 'input.invalid');
      assert.equal(error.field, field, JSON.stringify(input));
    }
    assert.deepEqual((await f.enrollment.overview('bob')).user.phones, []);
  });

  test('phones of a user who has a factor follow the change rule', async () => {
    const f = coreFixture();
    await withFactor(f);
    const error = await failure(
      f.enrollment.setPhones('alice', { primary: '+14155550100' }, PORTAL_OFFICE, PASSWORD_ONLY),
    );
    assert.equal(error.code, 'enrollment.step_up_required');
  });

  test('a weak PIN is refused, and a PIN is kept only as a peppered hash', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const weak = await failure(f.enrollment.setPin('bob', '1234', PORTAL_OFFICE, PASSWORD_ONLY));
    assert.equal(weak.field, 'pin');
    assert.equal((await f.enrollment.overview('bob')).hasPin, false);
    await f.enrollment.setPin('bob', '5831', PORTAL_OFFICE, PASSWORD_ONLY);
    const { user, hasPin } = await f.enrollment.overview('bob');
    assert.equal(hasPin, true);
    assert.match(user.pinHash ?? '', /^\$argon2id\$/);
    assert.ok(!(user.pinHash ?? '').includes('5831'));
    assert.equal(await f.hasher.verify('5831', user.pinHash ?? ''), true);
    assert.deepEqual(lastEvent(f, 'enrollment.pin_changed')?.details, { replaced: false });
    assert.ok(!JSON.stringify(f.store.events).includes('5831'));
  });

  test('security answers are kept only as hashes of the normalised answer', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    await f.enrollment.setSecurityAnswers(
      'bob',
      [
        { questionId: 'first-pet', answer: ' Fluffy. ' },
        { questionId: 'birth-city', answer: 'New  York' },
        { questionId: 'first-car', answer: 'Volvo' },
      ],
      PORTAL_OFFICE,
      PASSWORD_ONLY,
    );
    const user = (await f.enrollment.overview('bob')).user;
    const stored = await f.store.listSecurityAnswers(user.id);
    assert.deepEqual(stored.map((a) => a.questionId).sort(), ['birth-city', 'first-car', 'first-pet']);
    const pet = stored.find((a) => a.questionId === 'first-pet');
    assert.equal(await f.hasher.verify('fluffy', pet?.answerHash ?? ''), true);
    assert.ok(!JSON.stringify(stored).toLowerCase().includes('fluffy'));
    const audited = lastEvent(f, 'enrollment.security_questions_changed');
    assert.deepEqual(audited?.details, { questionIds: ['first-pet', 'birth-city', 'first-car'] });
    assert.ok(!JSON.stringify(f.store.events).toLowerCase().includes('fluffy'));
  });

  test('security answers need exactly count distinct offered questions, and can be turned off', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const two = [
      { questionId: 'first-pet', answer: 'fluffy' },
      { questionId: 'birth-city', answer: 'york' },
    ];
    assert.equal(
      (await failure(f.enrollment.setSecurityAnswers('bob', two, PORTAL_OFFICE, PASSWORD_ONLY))).field,
      'answers',
    );
    const off = coreFixture({
      enrollment: { securityQuestions: { count: 3, answersRequired: 0, questionIds: ['a', 'b', 'c'] } },
    });
    await off.userAdmin.add({ username: 'bob' }, off.admin);
    const error = await failure(off.enrollment.setSecurityAnswers('bob', two, PORTAL_OFFICE, PASSWORD_ONLY));
    assert.equal(error.code, 'enrollment.not_allowed');
  });

  test('a method must be offered and set up', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    for (const method of ['totp', 'sms', 'voice', 'push'] as const) {
      const error = await failure(f.enrollment.setMethod('bob', method, PORTAL_OFFICE));
      assert.equal(error.field, 'method', method);
    }
    await f.enrollment.setPhones('bob', { primary: '+14155550100' }, PORTAL_OFFICE, PASSWORD_ONLY);
    await f.enrollment.setMethod('bob', 'sms', PORTAL_OFFICE);
    assert.equal((await failure(f.enrollment.setMethod('bob', 'voice', PORTAL_OFFICE))).field, 'method');
    const changed = f.store.events.filter(
      (e) => e.type === 'enrollment.method_changed' && e.outcome === 'success',
    );
    assert.deepEqual(
      changed.map((e) => e.details),
      [{ from: null, to: 'sms' }],
    );
  });

  test('the language is two lower-case letters or none', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    await f.enrollment.setLanguage('bob', 'de', PORTAL_OFFICE);
    assert.equal((await f.enrollment.overview('bob')).user.language, 'de');
    for (const bad of ['DE', 'deu', 'd', '../en']) {
      assert.equal((await failure(f.enrollment.setLanguage('bob', bad, PORTAL_OFFICE))).field, 'language');
    }
    await f.enrollment.setLanguage('bob', null, PORTAL_OFFICE);
    assert.equal((await f.enrollment.overview('bob')).user.language, null);
    assert.equal(lastEvent(f, 'user.language_changed')?.actor, 'bob');
  });
});

describe('step-up, user bypass and recent sign-ins', () => {
  test('a step-up spends the code and returns the time the session keeps', async () => {
    const f = coreFixture();
    const { code } = await withFactor(f);
    const typed = await code();
    const at = await f.enrollment.stepUp('alice', typed, PORTAL_OFFICE);
    assert.equal(at, f.clock.now());
    assert.equal(lastEvent(f, 'auth.step_up')?.outcome, 'success');
    const replay = await failure(f.enrollment.stepUp('alice', typed, PORTAL_OFFICE));
    assert.equal(replay.code, 'auth.invalid_code');
    assert.equal(lastEvent(f, 'auth.step_up')?.reason, 'auth.invalid_code');
  });

  test('wrong step-up codes are audited and lock the user out like sign-in failures', async () => {
    const f = coreFixture();
    const { code } = await withFactor(f);
    const wrong = (await code()) === '000000' ? '000001' : '000000';
    for (let i = 0; i < 3; i++) await failure(f.enrollment.stepUp('alice', wrong, PORTAL_OFFICE));
    assert.equal(
      (await failure(f.enrollment.stepUp('alice', await code(), PORTAL_OFFICE))).code,
      'auth.locked',
    );
    const failures = f.store.events.filter((e) => e.type === 'auth.step_up' && e.outcome === 'failure');
    assert.equal(failures.length, 4);
  });

  test('a user bypass is limited to the configured maximum', async () => {
    const f = coreFixture();
    await withFactor(f);
    const proof = { secondFactorAt: f.clock.now() };
    for (const seconds of [29, 901, 60.5, Number.NaN]) {
      const error = await failure(f.enrollment.issueUserBypass('alice', seconds, PORTAL_OFFICE, proof));
      assert.equal(error.field, 'seconds', String(seconds));
    }
    const { expiresAt } = await f.enrollment.issueUserBypass('alice', 900, PORTAL_OFFICE, proof);
    assert.equal(expiresAt, f.clock.now() + 900_000);
    const audited = lastEvent(f, 'user.bypass_issued');
    assert.equal(audited?.outcome, 'success');
    assert.equal(audited?.actor, 'alice');
    assert.deepEqual(audited?.details, { seconds: 900 });
  });

  test('a user bypass needs a recent second factor, a factor to bypass, and the setting', async () => {
    const f = coreFixture();
    await withFactor(f);
    const stale = await failure(f.enrollment.issueUserBypass('alice', 60, PORTAL_OFFICE, PASSWORD_ONLY));
    assert.equal(stale.code, 'enrollment.step_up_required');
    // An enrollment window is not a second factor.
    await f.userAdmin.issueEnrollmentWindow('alice', 1, f.admin);
    await failure(f.enrollment.issueUserBypass('alice', 60, PORTAL_OFFICE, PASSWORD_ONLY));
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const none = await failure(
      f.enrollment.issueUserBypass('bob', 60, PORTAL_OFFICE, { secondFactorAt: f.clock.now() }),
    );
    assert.equal(none.code, 'auth.forbidden');
    const off = coreFixture({ enrollment: { userBypass: { allow: false, maxSeconds: 900 } } });
    await withFactor(off);
    const error = await failure(
      off.enrollment.issueUserBypass('alice', 60, PORTAL_OFFICE, { secondFactorAt: off.clock.now() }),
    );
    assert.equal(error.code, 'auth.forbidden');
    assert.equal(lastEvent(off, 'user.bypass_issued')?.outcome, 'failure');
  });

  test("recent sign-ins are the user's auth events, newest first", async () => {
    const f = coreFixture();
    const { code } = await withFactor(f);
    await withFactor(f, 'bob');
    for (let i = 0; i < 3; i++) {
      f.clock.advance(30_000);
      const primary = await f.authenticator.startLogin('alice', 'alice-pw', PORTAL_OFFICE);
      assert.ok(primary.kind === 'second_factor');
      await f.authenticator.completeLogin(primary.challenge.id, await code(), PORTAL_OFFICE);
    }
    await f.authenticator.startLogin('bob', 'bob-pw', PORTAL_OFFICE);
    const recent = await f.enrollment.recentSignIns('alice', 4);
    assert.equal(recent.length, 4);
    assert.ok(recent.every((e) => e.username === 'alice' && e.type.startsWith('auth.')));
    assert.deepEqual(
      recent.map((e) => e.at),
      recent.map((e) => e.at).toSorted((a, b) => b - a),
    );
    assert.equal(recent[0]?.type, 'auth.second_factor');
  });
});
