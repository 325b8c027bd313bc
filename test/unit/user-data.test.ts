// A user's data under GDPR, on the memory ports with a fixed clock: the export (everything, no
// secret), the deletion (nothing left but the session cut-off), the erasure (audit events kept,
// pseudonymised), and the PIN an administrator sets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditEvent } from '../../src/core/ports.ts';
import { base32Decode } from '../../src/core/secrets/base32.ts';
import { derivePepper } from '../../src/core/secrets/secret-hash.ts';
import { eraseAuditEvent, networkOf, pseudonymKey, pseudonymOf } from '../../src/core/users/audit-erasure.ts';
import { EXPORT_AUDIT_LIMIT } from '../../src/core/users/user-export.ts';
import { type CoreFixture, coreFixture, NOW, PORTAL_OFFICE, STORE_KEY } from '../helpers/core-fixture.ts';
import { failure } from '../helpers/users.ts';

const KEY = pseudonymKey(derivePepper(STORE_KEY));
const BOB_HOME = '198.51.100.23';

function event(extra: Partial<AuditEvent>): AuditEvent {
  return {
    at: NOW,
    type: 'auth.primary',
    outcome: 'failure',
    channel: 'web',
    username: 'bob',
    clientAddress: BOB_HOME,
    reason: 'auth.invalid_credentials',
    actor: null,
    application: 'intranet',
    details: null,
    ...extra,
  };
}

/** Bob with a row in every table the store keeps about a user, and some history in the audit log. */
async function bobWithEverything(f: CoreFixture) {
  await f.userAdmin.add({ username: 'bob', email: 'bob@example.test', phones: ['+15550100002'] }, f.admin);
  const totp = await f.userAdmin.enrollTotp('bob', f.admin, 'Bob’s token');
  await f.userAdmin.updateSettings('bob', { pin: '5831' }, f.admin);
  const answers = [
    { questionId: 'first-pet', answer: 'fluffy' },
    { questionId: 'birth-city', answer: 'york' },
    { questionId: 'first-car', answer: 'volvo' },
  ];
  await f.enrollment.setSecurityAnswers('bob', answers, PORTAL_OFFICE, { secondFactorAt: f.clock.now() });
  const phone = await f.activateDevice('bob', { deviceName: 'Bob’s phone' });
  const subscription = {
    endpoint: 'https://push.example.test/send/bob-endpoint-1234',
    p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
    auth: 'tBHItJI5svbpez7KI4CCXg',
  };
  await f.store.setPushSubscription(phone.deviceId, subscription);
  await f.userAdmin.issueBypass('bob', { seconds: 300, reason: 'lost phone' }, f.admin);
  await f.userAdmin.issueEnrollmentWindow('bob', 24, f.admin);
  await f.enrollment.issueActivationCodeAsAdmin('bob', { ...f.admin, application: 'test' });
  const user = await f.userAdmin.find('bob');
  await f.store.createPushRequest({
    id: 'push-1',
    userId: user.id,
    username: 'bob',
    challengeId: null,
    channel: 'web',
    application: 'intranet',
    clientAddress: BOB_HOME,
    numberMatching: true,
    number: 42,
    decoys: [17, 88],
    nonce: 'nonce-1',
    pinRequired: false,
    createdAt: NOW,
    expiresAt: NOW + 120_000,
  });
  const challenge = {
    channel: 'radius' as const,
    clientAddress: BOB_HOME,
    method: 'totp' as const,
    maxAttempts: 3,
    createdAt: NOW,
    expiresAt: NOW + 300_000,
  };
  await f.store.createChallenge({ ...challenge, id: 'ch-1', userId: user.id, username: 'bob' });
  // Opened before the user existed in the store: found only by name.
  await f.store.createChallenge({ ...challenge, id: 'ch-2', userId: null, username: 'bob' });
  await f.store.addFailure('user:bob', NOW, 300_000, 3, 900_000);
  await f.store.createSdkAuthentication({
    id: 'sdk-auth-1',
    accountId: 'account-1',
    userId: user.id,
    username: 'bob',
    method: 'push',
    challengeId: null,
    pushRequestId: 'push-1',
    status: 'pending',
    reason: null,
    createdAt: NOW,
    expiresAt: NOW + 120_000,
    keepUntil: NOW + 600_000,
    finishedAt: null,
  });
  await f.store.addFailure(`addr:${BOB_HOME}`, NOW, 300_000, 10, 900_000);
  await f.audit.record(event({}));
  await f.audit.record(
    event({ type: 'regulation.lockout', details: { subject: 'user:bob', failures: 3, lockedUntil: NOW } }),
  );
  // Bob as a portal administrator acting on someone else.
  await f.audit.record(
    event({
      type: 'admin.user_reset',
      outcome: 'success',
      username: 'carol',
      actor: 'bob',
      channel: 'portal',
      reason: null,
      details: { factorsRemoved: 1, note: 'carol asked' },
    }),
  );
  await f.audit.record(event({ username: 'carol', clientAddress: '203.0.113.9' }));
  await f.audit.record(
    event({ type: 'admin.portal_note', outcome: 'info', actor: 'dana', clientAddress: '192.0.2.50' }),
  );
  return { user, totp, answers, phone, subscription };
}

describe('exporting a user’s data', () => {
  test('an export never contains a seed, key, PIN hash or answer', async () => {
    const f = coreFixture();
    const { user, totp, answers, phone, subscription } = await bobWithEverything(f);
    const stored = await f.userAdmin.find('bob');
    const storedAnswers = await f.store.listSecurityAnswers(user.id);
    const seeds = (await f.store.listTotpFactors(user.id)).map((factor) => factor.secret);
    assert.equal(seeds.length, 2, 'the token and the phone’s offline seed');
    assert.ok(stored.pinHash);

    const text = JSON.stringify(await f.userAdmin.exportData('bob', f.admin));

    const forbidden = [
      totp.secretBase32,
      ...seeds.flatMap((seed) => [
        Buffer.from(seed).toString('hex'),
        Buffer.from(seed).toString('base64'),
        Buffer.from(seed).toString('base64url'),
      ]),
      Buffer.from(base32Decode(totp.secretBase32)).toString('hex'),
      stored.pinHash,
      ...storedAnswers.map((a) => a.answerHash),
      ...answers.map((a) => a.answer),
      phone.publicKey.x,
      phone.publicKey.y,
      subscription.endpoint,
      subscription.p256dh,
      subscription.auth,
    ];
    for (const secret of forbidden) assert.ok(!text.includes(secret), `the export holds ${secret}`);
  });

  test('an export holds the profile, factor and device summaries, answered questions, PIN state, window and audit events', async () => {
    const f = coreFixture();
    await bobWithEverything(f);
    const data = await f.userAdmin.exportData('bob', f.admin);
    assert.equal(data.exportedAt, NOW);
    assert.equal(data.profile.username, 'bob');
    assert.equal(data.profile.email, 'bob@example.test');
    assert.deepEqual(data.profile.phones, ['+15550100002']);
    assert.equal(data.profile.pinSet, true);
    assert.equal('pinHash' in data.profile, false);
    assert.deepEqual(data.factors.map((x) => x.kind).sort(), ['mobile', 'totp']);
    assert.equal(data.factors.find((x) => x.kind === 'totp')?.label, 'Bob’s token');
    assert.ok(data.factors.every((x) => x.createdAt === NOW));
    assert.deepEqual(
      data.mobileDevices.map((d) => [d.name, d.pushEnabled]),
      [['Bob’s phone', true]],
    );
    assert.deepEqual(data.securityQuestionIds.sort(), ['birth-city', 'first-car', 'first-pet']);
    assert.equal(data.enrollmentWindowUntil, NOW + 24 * 3_600_000);
    const types = data.auditEvents.events.map((e) => e.type);
    assert.ok(types.includes('enrollment.security_questions_changed'));
    assert.ok(types.includes('regulation.lockout'));
    assert.ok(
      data.auditEvents.events.some((e) => e.actor === 'bob' && e.username === 'carol'),
      'what they did as an administrator',
    );
    assert.ok(
      !data.auditEvents.events.some((e) => e.username === 'carol' && e.actor !== 'bob'),
      'nothing else about other users',
    );
    assert.equal(data.auditEvents.truncated, false);
    const audited = f.store.events.at(-1);
    assert.equal(audited?.type, 'admin.user_export');
    assert.equal(audited?.actor, 'cli:root');
    assert.equal(audited?.username, 'bob');
  });

  test('an export lists at most the stated number of audit events, newest first, and says it cut', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    for (let i = 1; i <= EXPORT_AUDIT_LIMIT + 5; i++) await f.store.appendAudit(event({ at: NOW + i }));
    const { auditEvents } = await f.userAdmin.exportData('bob', f.admin);
    assert.equal(auditEvents.limit, EXPORT_AUDIT_LIMIT);
    assert.equal(auditEvents.events.length, EXPORT_AUDIT_LIMIT);
    assert.equal(auditEvents.truncated, true);
    assert.equal(auditEvents.events[0]?.at, NOW + EXPORT_AUDIT_LIMIT + 5);
    assert.ok(auditEvents.events.every((e, i, all) => i === 0 || e.at <= (all[i - 1]?.at ?? 0)));
  });

  test('exporting an unknown user is user.not_found and audits nothing', async () => {
    const f = coreFixture();
    const before = f.store.events.length;
    assert.equal((await failure(f.userAdmin.exportData('nobody', f.admin))).code, 'user.not_found');
    assert.equal(f.store.events.length, before);
  });
});

describe('deleting a user', () => {
  test('deleting a user leaves no row about them in the memory store, and ends their sessions', async () => {
    const f = coreFixture();
    const { user } = await bobWithEverything(f);
    const session = { id: 'session-1', username: 'bob', issuedAt: NOW - 1000 };
    assert.equal(await f.sessions.isRevoked(session), false);

    const result = await f.userAdmin.delete('Bob', { erase: false }, f.admin);

    assert.deepEqual(result.counts, {
      factors: 2,
      mobileDevices: 1,
      securityAnswers: 3,
      bypasses: 1,
      enrollmentWindows: 1,
      activationCodes: 2,
      pushRequests: 1,
      challenges: 2,
      regulationCounters: 1,
      sdkAuthentications: 1,
      auditEventsErased: 0,
    });
    assert.equal(await f.store.findUserByName('bob'), undefined);
    assert.deepEqual(await f.store.listTotpFactors(user.id), []);
    assert.deepEqual(await f.store.listMobileDevices(user.id), []);
    assert.deepEqual(await f.store.listSecurityAnswers(user.id), []);
    assert.equal(await f.store.findEnrollmentWindow(user.id, NOW), undefined);
    assert.equal(await f.store.consumeBypass(user.id, NOW), undefined);
    assert.equal(await f.store.getPushRequest('push-1'), undefined);
    assert.equal(await f.store.getChallenge('ch-1'), undefined);
    assert.equal(await f.store.getChallenge('ch-2'), undefined);
    assert.equal(await f.store.getCounter('user:bob'), undefined);
    assert.equal(await f.store.getSdkAuthentication('sdk-auth-1'), undefined);
    assert.ok(await f.store.getCounter(`addr:${BOB_HOME}`), 'an address’s counter is not about one user');
    assert.equal(await f.sessions.isRevoked(session), true, 'a cookie issued before the deletion is dead');

    const audited = f.store.events.at(-1);
    assert.equal(audited?.type, 'admin.user_delete');
    assert.equal(audited?.actor, 'cli:root');
    assert.equal(audited?.username, 'bob', 'a plain deletion keeps the name');
    assert.deepEqual(audited?.details, { ...result.counts, erased: false });
    assert.ok(
      f.store.events.some((e) => e.type === 'regulation.lockout' && e.username === 'bob'),
      'a plain deletion keeps the security log as it was',
    );
  });

  test('deleting an unknown user is user.not_found and changes nothing', async () => {
    const f = coreFixture();
    const before = f.store.events.length;
    assert.equal(
      (await failure(f.userAdmin.delete('nobody', { erase: true }, f.admin))).code,
      'user.not_found',
    );
    assert.equal(f.store.events.length, before);
  });

  test('a deleted user can be added again and starts empty', async () => {
    const f = coreFixture();
    await bobWithEverything(f);
    await f.userAdmin.delete('bob', { erase: false }, f.admin);
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const overview = await f.userAdmin.overview('bob');
    assert.deepEqual(overview.factors, []);
    assert.equal(overview.hasPin, false);
  });
});

describe('erasing a user', () => {
  test('erasure pseudonymises the user’s audit events', async () => {
    const f = coreFixture();
    await bobWithEverything(f);
    const aboutBefore = f.store.events.filter((e) => e.username === 'bob').length;
    const otherBefore = f.store.events.find((e) => e.username === 'carol' && e.actor === null);

    const result = await f.userAdmin.delete('bob', { erase: true }, f.admin);

    const pseudonym = pseudonymOf(KEY, 'bob');
    assert.match(pseudonym, /^erased:[0-9a-f]{16}$/);
    assert.equal(result.auditName, pseudonym);
    assert.equal(result.counts.auditEventsErased, aboutBefore + 1, 'plus the one they acted in');
    const text = JSON.stringify(f.store.events);
    assert.ok(!/"bob"|user:bob|bob@|198\.51\.100\.23/.test(text), 'nothing names bob or his address');
    const about = f.store.events.filter((e) => e.username === pseudonym);
    assert.equal(about.length, aboutBefore + 1, 'every event stays, and the deletion is audited');
    for (const e of about) {
      if (e.actor === null || e.actor === pseudonym)
        assert.ok(e.clientAddress === null || e.clientAddress.endsWith('/24'), e.clientAddress ?? '');
      for (const value of Object.values(e.details ?? {}))
        assert.ok(['number', 'boolean'].includes(typeof value), JSON.stringify(e.details));
    }
    const lockout = about.find((e) => e.type === 'regulation.lockout');
    assert.deepEqual(lockout?.details, { failures: 3, lockedUntil: NOW }, 'counts kept, the subject dropped');
    assert.equal(lockout?.clientAddress, '198.51.100.0/24');
    assert.equal(lockout?.reason, 'auth.invalid_credentials');

    const byAdmin = f.store.events.find((e) => e.type === 'admin.bypass_issued');
    assert.equal(byAdmin?.actor, 'cli:root');
    assert.equal(byAdmin?.clientAddress, 'local', 'an administrator’s own address is theirs, and stays');
    assert.deepEqual(byAdmin?.details, { seconds: 300 }, 'the free-text reason is dropped');
    const portalAdmin = f.store.events.find((e) => e.type === 'admin.portal_note');
    assert.equal(portalAdmin?.clientAddress, '192.0.2.50');
    const acted = f.store.events.find((e) => e.type === 'admin.user_reset' && e.username === 'carol');
    assert.equal(acted?.actor, pseudonym, 'their actions on others keep their details but not their name');
    assert.deepEqual(acted?.details, { factorsRemoved: 1, note: 'carol asked' });

    const other = f.store.events.find((e) => e.id === otherBefore?.id);
    assert.deepEqual(other, otherBefore, 'other users’ events are untouched');

    const deletion = f.store.events.at(-1);
    assert.equal(deletion?.type, 'admin.user_delete');
    assert.equal(deletion?.username, pseudonym);
    assert.equal(deletion?.reason, 'erasure');
    assert.equal(deletion?.actor, 'cli:root', 'the administrator stays accountable');
  });

  test('the pseudonym is stable for a name, case-blind, and keyed', () => {
    assert.equal(pseudonymOf(KEY, 'bob'), pseudonymOf(KEY, ' BOB '));
    assert.notEqual(pseudonymOf(KEY, 'bob'), pseudonymOf(KEY, 'alice'));
    const otherKey = pseudonymKey(derivePepper(new Uint8Array(32).fill(9)));
    assert.notEqual(pseudonymOf(KEY, 'bob'), pseudonymOf(otherKey, 'bob'));
  });

  test('the same user erased on two nodes sharing the store key gets the same pseudonym', async () => {
    // Each fixture is a core over its own store, with the pepper of the same store key.
    const erasedOn = async () => {
      const node = coreFixture();
      await node.userAdmin.add({ username: 'bob' }, node.admin);
      return (await node.userAdmin.delete('bob', { erase: true }, node.admin)).auditName;
    };
    assert.equal(await erasedOn(), await erasedOn());
  });

  test('addresses are cut to their network; anything else is kept', () => {
    assert.equal(networkOf('192.0.2.77'), '192.0.2.0/24');
    assert.equal(networkOf('::ffff:198.51.100.7'), '198.51.100.0/24');
    assert.equal(networkOf('2001:db8:1:2::5'), '2001:db8:1::/48');
    assert.equal(networkOf('2001:DB8:abcd:12:0:0:0:1'), '2001:db8:abcd::/48');
    assert.equal(networkOf('::1'), '0:0:0::/48');
    assert.equal(networkOf('local'), 'local');
  });

  test('an event neither about nor by the user is returned as it is', () => {
    const stored = { ...event({ username: 'carol' }), id: 'e1' };
    assert.equal(eraseAuditEvent(stored, 'bob', 'erased:0000000000000000'), stored);
  });
});

describe('the PIN an administrator sets', () => {
  test('an administrator sets a PIN under the portal’s rules, hashed with the pepper, and clears it', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const set = await f.userAdmin.updateSettings('bob', { pin: '5831', language: 'de' }, f.admin);
    assert.ok(set.pinHash?.startsWith('$argon2id$'));
    assert.equal(await f.hasher.verify('5831', set.pinHash ?? ''), true);
    const audited = f.store.events.at(-1);
    assert.deepEqual(audited?.details, { fields: ['language', 'pin'] });
    assert.ok(!JSON.stringify(f.store.events).includes(set.pinHash ?? '-'), 'the hash is never audited');

    const cleared = await f.userAdmin.updateSettings('bob', { pin: null }, f.admin);
    assert.equal(cleared.pinHash, null);
  });

  test('a PIN that breaks the rules is refused with the field, and nothing changes', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    await f.userAdmin.updateSettings('bob', { pin: '5831' }, f.admin);
    const before = await f.userAdmin.find('bob');
    for (const pin of ['1234', '0000', '12a4', '583', '583194726', '']) {
      const error = await failure(f.userAdmin.updateSettings('bob', { pin, language: 'fr' }, f.admin));
      assert.equal(error.code, 'input.invalid', pin);
      assert.equal(error.field, 'pin', pin);
    }
    assert.deepEqual(await f.userAdmin.find('bob'), before);
  });
});
