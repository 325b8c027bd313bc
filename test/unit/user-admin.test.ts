import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { coreFixture, PORTAL_OFFICE } from '../helpers/core-fixture.ts';
import { failure } from '../helpers/users.ts';

type Fixture = ReturnType<typeof coreFixture>;

const lastEvent = (f: Fixture, type: string) => f.store.events.filter((e) => e.type === type).at(-1);

describe('user administration for the portal', () => {
  test("an administrator's reset removes every factor, the PIN and the security answers", async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    await f.userAdmin.enrollTotp('bob', f.admin);
    const proof = { secondFactorAt: f.clock.now() };
    await f.enrollment.setPin('bob', '5831', PORTAL_OFFICE, proof);
    await f.enrollment.setSecurityAnswers(
      'bob',
      [
        { questionId: 'first-pet', answer: 'fluffy' },
        { questionId: 'birth-city', answer: 'york' },
        { questionId: 'first-car', answer: 'volvo' },
      ],
      PORTAL_OFFICE,
      proof,
    );
    assert.equal(await f.userAdmin.reset('bob', f.admin), 1);
    const overview = await f.userAdmin.overview('bob');
    assert.deepEqual(overview.factors, []);
    assert.deepEqual(overview.securityQuestionIds, []);
    assert.equal(overview.hasPin, false);
    assert.equal(overview.user.pinHash, null);
    assert.equal(overview.user.defaultMethod, null);
    const audited = lastEvent(f, 'admin.user_reset');
    assert.equal(audited?.actor, 'cli:root');
    assert.deepEqual(audited?.details, { factorsRemoved: 1, answersCleared: 3, pinCleared: true });
  });

  test('settings are checked field by field and the change is audited with the administrator', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    const bad: Array<[Parameters<Fixture['userAdmin']['updateSettings']>[1], string]> = [
      [{ phones: ['+14155550100', '555-0100'] }, 'phones[1]'],
      [{ phones: ['+14155550100', '+1 415 555 0100'] }, 'phones[1]'],
      [{ email: 'not an address' }, 'email'],
      [{ displayName: 'x'.repeat(257) }, 'displayName'],
      [{ displayName: 'Bob\u0000' }, 'displayName'],
      [{ defaultMethod: 'carrier-pigeon' as never }, 'defaultMethod'],
      [{ language: 'english' }, 'language'],
    ];
    for (const [input, field] of bad) {
      const error = await failure(f.userAdmin.updateSettings('bob', input, f.admin));
      assert.equal(error.code, 'input.invalid');
      assert.equal(error.field, field, JSON.stringify(input));
    }
    const updated = await f.userAdmin.updateSettings(
      'bob',
      {
        displayName: ' Bob Builder ',
        email: 'bob@example.test',
        phones: ['+1 (415) 555-0100'],
        defaultMethod: 'sms',
        language: 'de',
      },
      f.admin,
    );
    assert.equal(updated.displayName, 'Bob Builder');
    assert.deepEqual(updated.phones, ['+14155550100']);
    assert.equal(updated.defaultMethod, 'sms');
    assert.equal(updated.language, 'de');
    const audited = lastEvent(f, 'admin.user_update');
    assert.equal(audited?.actor, 'cli:root');
    assert.deepEqual(audited?.details, {
      fields: ['displayName', 'email', 'phones', 'defaultMethod', 'language'],
    });
    const cleared = await f.userAdmin.updateSettings('bob', { email: '', displayName: null }, f.admin);
    assert.equal(cleared.email, null);
    assert.equal(cleared.displayName, null);
    assert.equal(cleared.language, 'de', 'an absent key is left alone');
  });

  test('an enrollment window lasts 1 to 168 whole hours and is audited with the administrator', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    for (const hours of [0, 169, 1.5, Number.NaN]) {
      const error = await failure(f.userAdmin.issueEnrollmentWindow('bob', hours, f.admin));
      assert.equal(error.field, 'hours', String(hours));
    }
    const { expiresAt } = await f.userAdmin.issueEnrollmentWindow('bob', 168, f.admin);
    assert.equal(expiresAt, f.clock.now() + 168 * 3_600_000);
    assert.equal((await f.userAdmin.overview('bob')).enrollmentWindowUntil, expiresAt);
    const audited = lastEvent(f, 'admin.enrollment_window');
    assert.equal(audited?.actor, 'cli:root');
    assert.deepEqual(audited?.details, { hours: 168, expiresAt });
    assert.equal(
      (await failure(f.userAdmin.issueEnrollmentWindow('nobody', 1, f.admin))).code,
      'user.not_found',
    );
  });

  test('search finds users by a part of the name or e-mail, bounded', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice', email: 'alice@example.test' }, f.admin);
    await f.userAdmin.add({ username: 'bob', displayName: 'Robert Builder' }, f.admin);
    await f.userAdmin.add({ username: 'carol' }, f.admin);
    assert.deepEqual(
      (await f.userAdmin.search({ search: 'BUILD' })).map((u) => u.username),
      ['bob'],
    );
    assert.deepEqual(
      (await f.userAdmin.search({ search: 'example' })).map((u) => u.username),
      ['alice'],
    );
    assert.equal((await f.userAdmin.search({ limit: 2 })).length, 2);
    assert.equal((await f.userAdmin.search({ limit: -5 })).length, 1);
    assert.equal((await f.userAdmin.search()).length, 3);
  });

  test('the audit log is queried by a family of types, outcome and actor', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'bob' }, f.admin);
    await failure(f.authenticator.startLogin('bob', 'wrong', PORTAL_OFFICE));
    await f.userAdmin.disable('bob', f.admin);
    const admin = await f.auditQuery({ type: 'admin.', actor: 'cli:root' });
    assert.deepEqual(
      admin.map((e) => e.type),
      ['admin.user_add', 'admin.user_disable'],
    );
    const failures = await f.auditQuery({ outcome: 'failure', type: 'auth.' });
    assert.deepEqual(
      failures.map((e) => e.type),
      ['auth.primary'],
    );
    assert.deepEqual(await f.auditQuery({ type: 'admin' }), [], "a type without '.' is exact");
    const newest = await f.auditQuery({ order: 'newest', limit: 1 });
    assert.equal(newest[0]?.type, 'admin.user_disable');
  });
});
