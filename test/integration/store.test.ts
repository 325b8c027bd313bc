// The SQL store on a real SQLite file: migrations, users and factors, secrets at rest, the TOTP
// replay guard across connections, challenges, regulation counters, the audit log, security answers
// and enrollment windows.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { sql } from 'kysely';
import { isMfaError } from '../../src/core/errors.ts';
import type { AuditEvent, TotpParams } from '../../src/core/ports.ts';
import { systemRandom } from '../../src/core/random.ts';
import { base32Encode } from '../../src/core/secrets/base32.ts';
import { createSecretHasher, derivePepper } from '../../src/core/secrets/secret-hash.ts';
import { createSqlStore } from '../../src/store/create-store.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { createSecretBox } from '../../src/store/secret-box.ts';
import { openSqliteDatabase } from '../../src/store/sqlite.ts';
import { rowsMentioning } from '../helpers/rows-mentioning.ts';
import { newUser } from '../helpers/users.ts';

const T0 = Date.UTC(2025, 0, 1);
const PARAMS: TotpParams = { algorithm: 'sha1', digits: 6, period: 30 };
const key = new Uint8Array(randomBytes(32));

async function tempDbPath(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mfa-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'nested', 'store.db');
}

async function openStore(dbPath: string) {
  const db = openSqliteDatabase({ path: dbPath, busyTimeoutMs: 5000 });
  await migrateToLatest(db);
  return { db, store: createSqlStore(db, { secretBox: createSecretBox(key), random: systemRandom }) };
}

async function freshStore(t: TestContext) {
  const opened = await openStore(await tempDbPath(t));
  t.after(() => opened.store.close());
  return opened;
}

function auditEvent(extra: Partial<AuditEvent>): AuditEvent {
  const base: AuditEvent = {
    at: T0,
    type: 'auth.primary',
    outcome: 'success',
    channel: 'web',
    username: null,
    clientAddress: '192.0.2.1',
    reason: null,
    actor: null,
    application: null,
    details: null,
  };
  return { ...base, ...extra };
}

test('migrations run twice change nothing', async (t) => {
  const dbPath = await tempDbPath(t);
  const db = openSqliteDatabase({ path: dbPath, busyTimeoutMs: 5000 });
  t.after(() => db.destroy());
  const dump = async () =>
    (
      await sql<{
        type: string;
        name: string;
        sql: string | null;
      }>`select type, name, sql from sqlite_master order by type, name`.execute(db)
    ).rows;
  assert.deepEqual(await migrateToLatest(db), {
    applied: [
      '0001-initial',
      '0002-gateway',
      '0003-portal',
      '0004-mobile',
      '0005-sdk',
      '0006-sdk-authentications',
    ],
  });
  const first = await dump();
  assert.ok(first.some((row) => row.name === 'audit_events_username_at_idx'));
  assert.deepEqual(await migrateToLatest(db), { applied: [] });
  assert.deepEqual(await dump(), first);
  const pragmas = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
  assert.equal(pragmas.rows[0]?.journal_mode, 'wal');
});

test('users are created, found canonically, updated and listed', async (t) => {
  const { store } = await freshStore(t);
  const alice = await store.createUser(
    newUser('  Alice ', {
      uniqueId: 'guid-a',
      displayName: 'Alice Liddell',
      email: 'alice@example.test',
      phones: ['+15550001'],
      defaultMethod: 'totp',
      fromDirectory: true,
    }),
    T0,
  );
  assert.equal(alice.username, 'alice');
  assert.deepEqual(await store.findUserByName('ALICE'), alice);
  assert.deepEqual(await store.findUserByUniqueId('guid-a'), alice);
  assert.deepEqual(await store.getUser(alice.id), alice);
  assert.equal(await store.findUserByName('bob'), undefined);

  await assert.rejects(store.createUser(newUser('alice'), T0), (e) => isMfaError(e, 'user.exists'));
  await assert.rejects(store.createUser(newUser('other', { uniqueId: 'guid-a' }), T0), (e) =>
    isMfaError(e, 'user.exists'),
  );

  const updated = await store.updateUser(
    alice.id,
    { status: 'disabled', phones: [], displayName: null, fromDirectory: false },
    T0 + 5,
  );
  assert.deepEqual(updated, {
    ...alice,
    status: 'disabled',
    phones: [],
    displayName: null,
    fromDirectory: false,
    updatedAt: T0 + 5,
  });
  await assert.rejects(store.updateUser('missing', { status: 'enabled' }, T0), (e) =>
    isMfaError(e, 'user.not_found'),
  );

  const bob = await store.createUser(newUser('bob', { email: 'Bob_Smith@example.test' }), T0 + 1);
  await assert.rejects(store.updateUser(bob.id, { username: 'ALICE' }, T0), (e) =>
    isMfaError(e, 'user.exists'),
  );
  assert.deepEqual(
    (await store.listUsers()).map((u) => u.username),
    ['alice', 'bob'],
  );
  assert.deepEqual(
    (await store.listUsers({ status: 'disabled' })).map((u) => u.username),
    ['alice'],
  );
  assert.deepEqual(
    (await store.listUsers({ search: 'BOB_s' })).map((u) => u.username),
    ['bob'],
  );
  assert.deepEqual(
    (await store.listUsers({ search: '%' })).map((u) => u.username),
    [],
  );
  assert.deepEqual(
    (await store.listUsers({ limit: 1 })).map((u) => u.username),
    ['alice'],
  );
});

test('TOTP factors are added, listed with their seed, and removed', async (t) => {
  const { store } = await freshStore(t);
  const user = await store.createUser(newUser('carol'), T0);
  const seed = new Uint8Array(randomBytes(20));
  const added = await store.addTotpFactor(user.id, 'phone', seed, { ...PARAMS, digits: 8 }, T0);
  await store.addTotpFactor(user.id, 'tablet', new Uint8Array(randomBytes(20)), PARAMS, T0 + 1);
  const listed = await store.listTotpFactors(user.id);
  assert.equal(listed.length, 2);
  assert.deepEqual(listed[0], added);
  assert.deepEqual(listed[0]?.secret, seed);
  assert.equal(listed[0]?.digits, 8);
  assert.deepEqual(await store.listTotpFactors('nobody'), []);
  assert.equal(await store.removeFactors(user.id), 2);
  assert.deepEqual(await store.listTotpFactors(user.id), []);
});

test('a TOTP seed is not readable in the database file', async (t) => {
  const dbPath = await tempDbPath(t);
  const { db, store } = await openStore(dbPath);
  const seed = new Uint8Array(randomBytes(20));
  const user = await store.createUser(newUser('dave'), T0);
  const factor = await store.addTotpFactor(user.id, 'phone', seed, PARAMS, T0);
  const stored = await db
    .selectFrom('factors')
    .select('secret_enc')
    .where('id', '=', factor.id)
    .executeTakeFirstOrThrow();
  assert.match(stored.secret_enc, /^v1\./);

  const needles = [
    Buffer.from(seed),
    Buffer.from(base32Encode(seed)),
    Buffer.from(Buffer.from(seed).toString('hex')),
  ];
  const assertAbsent = async (label: string) => {
    for (const file of [dbPath, `${dbPath}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = await readFile(file);
      for (const needle of needles)
        assert.equal(bytes.indexOf(needle), -1, `${label}: seed found in ${path.basename(file)}`);
    }
  };
  await assertAbsent('while open');
  await store.close();
  await assertAbsent('after close');
  const reopened = await openStore(dbPath);
  t.after(() => reopened.store.close());
  assert.deepEqual((await reopened.store.listTotpFactors(user.id))[0]?.secret, seed);
});

test('a sealed seed moved to another row does not decrypt', async (t) => {
  const { db, store } = await freshStore(t);
  const eve = await store.createUser(newUser('eve'), T0);
  const frank = await store.createUser(newUser('frank'), T0);
  const eveFactor = await store.addTotpFactor(eve.id, 'phone', new Uint8Array(randomBytes(20)), PARAMS, T0);
  const frankFactor = await store.addTotpFactor(
    frank.id,
    'phone',
    new Uint8Array(randomBytes(20)),
    PARAMS,
    T0,
  );
  const { secret_enc } = await db
    .selectFrom('factors')
    .select('secret_enc')
    .where('id', '=', eveFactor.id)
    .executeTakeFirstOrThrow();
  await db.updateTable('factors').set({ secret_enc }).where('id', '=', frankFactor.id).execute();
  await assert.rejects(store.listTotpFactors(frank.id), /decryption failed/);
  // Moving the row to another user breaks it too: the user id is part of the binding.
  await db.updateTable('factors').set({ user_id: frank.id }).where('id', '=', eveFactor.id).execute();
  await assert.rejects(store.listTotpFactors(frank.id), /decryption failed/);
});

test('a TOTP time step is accepted once', async (t) => {
  const { store } = await freshStore(t);
  const user = await store.createUser(newUser('gina'), T0);
  const factor = await store.addTotpFactor(user.id, 'phone', new Uint8Array(randomBytes(20)), PARAMS, T0);
  assert.equal(await store.acceptTimeStep(factor.id, 1000, T0), true);
  assert.equal(await store.acceptTimeStep(factor.id, 1000, T0 + 1), false);
  assert.equal(await store.acceptTimeStep(factor.id, 999, T0 + 2), false);
  assert.equal(await store.acceptTimeStep(factor.id, 1001, T0 + 3), true);
  assert.equal(await store.acceptTimeStep('missing', 5000, T0), false);
  assert.equal((await store.listTotpFactors(user.id))[0]?.lastTimeStep, 1001);
});

test('two connections racing on the same time step accept it once', async (t) => {
  const dbPath = await tempDbPath(t);
  const first = await openStore(dbPath);
  t.after(() => first.store.close());
  const second = await openStore(dbPath);
  t.after(() => second.store.close());
  const user = await first.store.createUser(newUser('hank'), T0);
  const factor = await first.store.addTotpFactor(
    user.id,
    'phone',
    new Uint8Array(randomBytes(20)),
    PARAMS,
    T0,
  );
  for (let step = 2000; step < 2010; step++) {
    const attempts = Array.from({ length: 40 }, (_, i) =>
      (i % 2 === 0 ? first : second).store.acceptTimeStep(factor.id, step, T0 + i),
    );
    const accepted = (await Promise.all(attempts)).filter(Boolean).length;
    assert.equal(accepted, 1, `step ${step}`);
  }
});

test('a one-time bypass is spent once, even by two connections racing for it', async (t) => {
  const dbPath = await tempDbPath(t);
  const first = await openStore(dbPath);
  t.after(() => first.store.close());
  const second = await openStore(dbPath);
  t.after(() => second.store.close());
  const user = await first.store.createUser(newUser('ivan'), T0);
  const bypass = { userId: user.id, createdBy: 'cli:root', reason: null, createdAt: T0 };
  await first.store.createBypass({ ...bypass, id: 'b1', expiresAt: T0 + 60_000 });
  await first.store.createBypass({ ...bypass, id: 'b0', expiresAt: T0 + 1000 });
  const attempts = Array.from({ length: 20 }, (_, i) =>
    (i % 2 === 0 ? first : second).store.consumeBypass(user.id, T0 + 5000),
  );
  const spent = (await Promise.all(attempts)).filter((b) => b !== undefined);
  assert.deepEqual(
    spent.map((b) => [b.id, b.usedAt]),
    [['b1', T0 + 5000]],
    'the expired one is never spent',
  );
  assert.equal(await first.store.deleteExpiredBypasses(T0 + 60_000), 2);
});

test('session revocations are found by id and by user cut-off, and swept when expired', async (t) => {
  const { store } = await freshStore(t);
  await store.revokeSession('s1', T0 + 1000);
  await store.revokeUserSessions('judy', T0 + 10, T0 + 2000);
  await store.revokeUserSessions('judy', T0 + 20, T0 + 2000);
  assert.deepEqual(await store.findRevocations('s1', 'judy'), { session: true, userBefore: T0 + 20 });
  assert.deepEqual(await store.findRevocations('s2', 'kim'), { session: false, userBefore: null });
  assert.equal(await store.deleteExpiredRevocations(T0 + 1000), 1);
  assert.deepEqual(await store.findRevocations('s1', 'judy'), { session: false, userBefore: T0 + 20 });
});

test('a challenge counts attempts up to its cap and is consumed once', async (t) => {
  const { store } = await freshStore(t);
  const user = await store.createUser(newUser('ivy'), T0);
  const challenge = {
    id: 'ch-1',
    userId: user.id,
    username: user.username,
    channel: 'radius' as const,
    clientAddress: '192.0.2.7',
    method: 'totp' as const,
    maxAttempts: 3,
    createdAt: T0,
    expiresAt: T0 + 60_000,
  };
  await store.createChallenge(challenge);
  assert.deepEqual(await store.getChallenge('ch-1'), { ...challenge, attempts: 0 });
  const counts = await Promise.all([1, 2, 3, 4, 5].map(() => store.countChallengeAttempt('ch-1')));
  assert.deepEqual(counts.toSorted(), [1, 2, 3, undefined, undefined]);
  assert.equal((await store.getChallenge('ch-1'))?.attempts, 3);
  assert.equal(await store.countChallengeAttempt('missing'), undefined);
  assert.equal(await store.consumeChallenge('ch-1'), true);
  assert.equal(await store.consumeChallenge('ch-1'), false);
  assert.equal(await store.getChallenge('ch-1'), undefined);

  await store.createChallenge({ ...challenge, id: 'old', expiresAt: T0 + 10 });
  await store.createChallenge({ ...challenge, id: 'new', userId: null, expiresAt: T0 + 100 });
  assert.equal(await store.deleteExpiredChallenges(T0 + 10), 1);
  assert.equal((await store.getChallenge('new'))?.userId, null);
});

test('a regulation window restarts when expired and locks at the limit', async (t) => {
  const { store } = await freshStore(t);
  const window = 60_000;
  const ban = 300_000;
  assert.deepEqual(await store.addFailure('user:a', T0, window, 3, ban), {
    failures: 1,
    windowStart: T0,
    lockedUntil: null,
  });
  assert.deepEqual(await store.addFailure('user:a', T0 + 1000, window, 3, ban), {
    failures: 2,
    windowStart: T0,
    lockedUntil: null,
  });
  // The window expired: counting starts again from this failure.
  assert.deepEqual(await store.addFailure('user:a', T0 + window, window, 3, ban), {
    failures: 1,
    windowStart: T0 + window,
    lockedUntil: null,
  });
  await store.addFailure('user:a', T0 + window + 1, window, 3, ban);
  const locked = await store.addFailure('user:a', T0 + window + 2, window, 3, ban);
  assert.deepEqual(locked, { failures: 3, windowStart: T0 + window, lockedUntil: T0 + window + 2 + ban });
  assert.deepEqual(await store.getCounter('user:a'), locked);
  assert.deepEqual(await store.listLocked(T0 + window + 3), [{ subject: 'user:a', ...locked }]);
  assert.deepEqual(await store.listLocked(T0 + window + 2 + ban), []);
  // A new window while still banned keeps the ban.
  const later = await store.addFailure('user:a', T0 + 3 * window, window, 3, ban);
  assert.deepEqual(later, { failures: 1, windowStart: T0 + 3 * window, lockedUntil: locked.lockedUntil });

  assert.deepEqual(await store.addFailure('addr:x', T0, window, 1, ban), {
    failures: 1,
    windowStart: T0,
    lockedUntil: T0 + ban,
  });
  const concurrent = await Promise.all(
    Array.from({ length: 20 }, () => store.addFailure('addr:y', T0, window, 100, ban)),
  );
  assert.equal(Math.max(...concurrent.map((c) => c.failures)), 20);
  assert.equal(await store.clearCounter('user:a'), true);
  assert.equal(await store.clearCounter('user:a'), false);
  assert.equal(await store.getCounter('user:a'), undefined);
});

test('the audit log is queried by user, type and time', async (t) => {
  const { store } = await freshStore(t);
  await store.appendAudit(
    auditEvent({ at: T0 + 30, username: 'Alice', type: 'auth.second_factor', details: { factor: 'totp' } }),
  );
  await store.appendAudit(
    auditEvent({ at: T0 + 10, username: 'alice', outcome: 'failure', reason: 'auth.invalid_credentials' }),
  );
  await store.appendAudit(
    auditEvent({ at: T0 + 20, username: 'bob', channel: 'radius', application: 'vpn' }),
  );
  await store.appendAudit(
    auditEvent({ at: T0 + 20, username: null, type: 'directory.import', actor: 'admin', outcome: 'info' }),
  );

  const all = await store.queryAudit({});
  assert.deepEqual(
    all.map((e) => e.at),
    [T0 + 10, T0 + 20, T0 + 20, T0 + 30],
  );
  assert.equal(new Set(all.map((e) => e.id)).size, 4);
  const alice = await store.queryAudit({ username: ' ALICE' });
  assert.deepEqual(
    alice.map((e) => [e.at, e.outcome, e.reason]),
    [
      [T0 + 10, 'failure', 'auth.invalid_credentials'],
      [T0 + 30, 'success', null],
    ],
  );
  assert.deepEqual(alice[1]?.details, { factor: 'totp' });
  assert.deepEqual(
    (await store.queryAudit({ type: 'directory.import' })).map((e) => e.actor),
    ['admin'],
  );
  assert.deepEqual(
    (await store.queryAudit({ since: T0 + 15, until: T0 + 25 })).map((e) => e.at),
    [T0 + 20, T0 + 20],
  );
  assert.deepEqual(
    (await store.queryAudit({ limit: 1 })).map((e) => e.at),
    [T0 + 10],
  );
  const bob = await store.queryAudit({ username: 'bob' });
  assert.deepEqual(bob, [
    {
      ...auditEvent({ at: T0 + 20, username: 'bob', channel: 'radius', application: 'vpn' }),
      id: bob[0]?.id,
    },
  ]);
});

test('ping answers on an open store', async (t) => {
  const { store } = await freshStore(t);
  await store.ping();
});

test('the audit log is queried by a family of types, outcome and actor, newest first on request', async (t) => {
  const { store } = await freshStore(t);
  await store.appendAudit(auditEvent({ at: T0 + 1, username: 'alice', type: 'auth.primary' }));
  await store.appendAudit(
    auditEvent({ at: T0 + 2, username: 'alice', type: 'auth.second_factor', outcome: 'failure' }),
  );
  await store.appendAudit(auditEvent({ at: T0 + 3, username: 'alice', type: 'auth/other' }));
  await store.appendAudit(auditEvent({ at: T0 + 4, username: 'alice', type: 'authx.primary' }));
  await store.appendAudit(
    auditEvent({ at: T0 + 5, username: 'bob', type: 'admin.user_reset', actor: 'root' }),
  );
  await store.appendAudit(auditEvent({ at: T0 + 6, username: 'bob', type: 'admin.user_add', actor: 'eve' }));
  await store.appendAudit(auditEvent({ at: T0 + 7, username: 'alice', type: 'auth.step_up' }));
  const types = async (query: Parameters<typeof store.queryAudit>[0]) =>
    (await store.queryAudit(query)).map((e) => e.type);
  assert.deepEqual(await types({ type: 'auth.' }), ['auth.primary', 'auth.second_factor', 'auth.step_up']);
  assert.deepEqual(await types({ type: 'auth.', order: 'newest', limit: 2 }), [
    'auth.step_up',
    'auth.second_factor',
  ]);
  assert.deepEqual(await types({ type: 'auth' }), [], 'without the dot the type is exact');
  assert.deepEqual(await types({ type: 'auth.primary' }), ['auth.primary']);
  assert.deepEqual(await types({ type: '%.' }), [], 'a prefix is not a LIKE pattern');
  assert.deepEqual(await types({ outcome: 'failure' }), ['auth.second_factor']);
  assert.deepEqual(await types({ actor: 'root' }), ['admin.user_reset']);
  assert.deepEqual(await types({ type: 'admin.', actor: 'eve', username: 'BOB' }), ['admin.user_add']);
  assert.deepEqual(
    (await store.queryAudit({ order: 'newest' })).map((e) => e.at),
    [7, 6, 5, 4, 3, 2, 1].map((n) => T0 + n),
  );
});

test('security answers are replaced as a set, one per question', async (t) => {
  const { db, store } = await freshStore(t);
  const user = await store.createUser(newUser('kate'), T0);
  const other = await store.createUser(newUser('liam'), T0);
  assert.deepEqual(await store.listSecurityAnswers(user.id), []);
  await store.replaceSecurityAnswers(
    user.id,
    [
      { questionId: 'first-pet', answerHash: 'h1' },
      { questionId: 'birth-city', answerHash: 'h2' },
    ],
    T0,
  );
  await store.replaceSecurityAnswers(other.id, [{ questionId: 'first-pet', answerHash: 'h9' }], T0);
  assert.deepEqual(await store.listSecurityAnswers(user.id), [
    { questionId: 'birth-city', answerHash: 'h2' },
    { questionId: 'first-pet', answerHash: 'h1' },
  ]);
  await store.replaceSecurityAnswers(user.id, [{ questionId: 'first-car', answerHash: 'h3' }], T0 + 1);
  assert.deepEqual(await store.listSecurityAnswers(user.id), [{ questionId: 'first-car', answerHash: 'h3' }]);
  // A set with the same question twice is refused whole: the old set stays.
  await assert.rejects(
    store.replaceSecurityAnswers(
      user.id,
      [
        { questionId: 'a', answerHash: 'x' },
        { questionId: 'a', answerHash: 'y' },
      ],
      T0 + 2,
    ),
  );
  assert.deepEqual(await store.listSecurityAnswers(user.id), [{ questionId: 'first-car', answerHash: 'h3' }]);
  await store.replaceSecurityAnswers(user.id, [], T0 + 3);
  assert.deepEqual(await store.listSecurityAnswers(user.id), []);
  assert.deepEqual(await store.listSecurityAnswers(other.id), [
    { questionId: 'first-pet', answerHash: 'h9' },
  ]);
  // Deleting the user deletes their answers.
  await db.deleteFrom('users').where('id', '=', other.id).execute();
  const left = await db.selectFrom('security_answers').select('id').execute();
  assert.equal(left.length, 0);
});

test('security answers and PINs are not readable in the database', async (t) => {
  const dbPath = await tempDbPath(t);
  const { db, store } = await openStore(dbPath);
  const hasher = createSecretHasher(derivePepper(key));
  const answer = 'hillside primary school of westbury';
  const pin = '58319472';
  const user = await store.createUser(newUser('mia'), T0);
  await store.replaceSecurityAnswers(
    user.id,
    [{ questionId: 'first-school', answerHash: await hasher.hash(answer) }],
    T0,
  );
  await store.updateUser(user.id, { pinHash: await hasher.hash(pin) }, T0);
  const rows = await db.selectFrom('security_answers').selectAll().execute();
  const userRow = await db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', user.id)
    .executeTakeFirstOrThrow();
  assert.match(rows[0]?.answer_hash ?? '', /^\$argon2id\$v=19\$/);
  assert.match(userRow.pin_hash ?? '', /^\$argon2id\$v=19\$/);
  assert.ok(!JSON.stringify(rows).includes(answer));
  assert.ok(!JSON.stringify(userRow).includes(pin));
  const needles = [Buffer.from(answer), Buffer.from(pin)];
  const assertAbsent = async (label: string) => {
    for (const file of [dbPath, `${dbPath}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = await readFile(file);
      for (const needle of needles)
        assert.equal(bytes.indexOf(needle), -1, `${label}: ${needle} found in ${path.basename(file)}`);
    }
  };
  await assertAbsent('while open');
  // What is stored still proves the right answer and PIN, and nothing else.
  const stored = await store.listSecurityAnswers(user.id);
  assert.equal(await hasher.verify(answer, stored[0]?.answerHash ?? ''), true);
  assert.equal(await hasher.verify('westbury', stored[0]?.answerHash ?? ''), false);
  assert.equal(await hasher.verify(pin, (await store.getUser(user.id))?.pinHash ?? ''), true);
  await store.close();
  await assertAbsent('after close');
});

test('an enrollment window is found while open and swept once expired', async (t) => {
  const { db, store } = await freshStore(t);
  const user = await store.createUser(newUser('noah'), T0);
  const other = await store.createUser(newUser('olga'), T0);
  const window = { userId: user.id, createdBy: 'admin:root', createdAt: T0 };
  await store.createEnrollmentWindow({ ...window, id: 'w1', expiresAt: T0 + 3_600_000 });
  await store.createEnrollmentWindow({ ...window, id: 'w2', expiresAt: T0 + 7_200_000 });
  await store.createEnrollmentWindow({ ...window, id: 'w3', userId: other.id, expiresAt: T0 + 60_000 });
  assert.equal(await store.findEnrollmentWindow(user.id, T0 - 1), undefined, 'not before it was issued');
  assert.deepEqual(await store.findEnrollmentWindow(user.id, T0), {
    ...window,
    id: 'w2',
    expiresAt: T0 + 7_200_000,
  });
  assert.equal((await store.findEnrollmentWindow(user.id, T0 + 3_600_000))?.id, 'w2');
  assert.equal(await store.findEnrollmentWindow(user.id, T0 + 7_200_000), undefined, 'the end is exclusive');
  assert.equal((await store.findEnrollmentWindow(other.id, T0 + 1))?.id, 'w3');
  assert.equal(await store.deleteExpiredEnrollmentWindows(T0 + 3_600_000), 2);
  assert.equal(await store.findEnrollmentWindow(other.id, T0 + 1), undefined);
  assert.equal((await store.findEnrollmentWindow(user.id, T0 + 1))?.id, 'w2');
  await db.deleteFrom('users').where('id', '=', user.id).execute();
  assert.equal((await db.selectFrom('enrollment_windows').select('id').execute()).length, 0);
});

test('the portal migration adds the enrollment windows table and its indexes', async (t) => {
  const { db } = await freshStore(t);
  const objects = (
    await sql<{
      name: string;
    }>`select name from sqlite_master where tbl_name in ('enrollment_windows', 'security_answers')`.execute(
      db,
    )
  ).rows.map((row) => row.name);
  for (const name of [
    'enrollment_windows',
    'enrollment_windows_user_id_idx',
    'enrollment_windows_expires_at_idx',
    'security_answers',
  ])
    assert.ok(objects.includes(name), name);
  const unique = await sql<{ name: string; unique: number }>`pragma index_list('security_answers')`.execute(
    db,
  );
  assert.ok(unique.rows.some((row) => Number(row.unique) === 1 && row.name.startsWith('sqlite_autoindex')));
});

test('the store holds one pending push per user, and an approval completes one challenge', async (t) => {
  const { store } = await freshStore(t);
  const user = await store.createUser(newUser('dave'), T0);
  const request = (id: string, at: number) => ({
    id,
    userId: user.id,
    username: user.username,
    challengeId: null,
    channel: 'web' as const,
    application: 'intranet',
    clientAddress: '192.0.2.10',
    numberMatching: true,
    number: 42,
    decoys: [17, 93] as [number, number],
    nonce: `nonce-${id}`,
    pinRequired: false,
    createdAt: at,
    expiresAt: at + 120_000,
  });
  assert.equal(await store.createPushRequest(request('r1', T0)), true);
  assert.equal(
    await store.createPushRequest(request('r2', T0 + 1)),
    false,
    'a second pending one is refused',
  );
  const settle = { state: 'approved' as const, reason: null, deviceId: null, at: T0 + 2 };
  assert.equal(await store.settlePushRequest('r1', settle), true);
  assert.equal(await store.settlePushRequest('r1', { ...settle, state: 'denied' }), false, 'settled once');
  assert.equal(await store.claimPushRequest('r1', 'challenge-a'), true);
  assert.equal(await store.claimPushRequest('r1', 'challenge-b'), false, 'one approval, one sign-in');
  assert.equal(await store.createPushRequest(request('r3', T0 + 3)), true, 'a new one once the first ended');
  assert.equal(await store.expireStalePushRequests(user.id, T0 + 200_000), 1);
  assert.equal(
    await store.settlePushRequest('r3', { ...settle, at: T0 + 200_001 }),
    false,
    'an expired request cannot be approved',
  );
  assert.deepEqual(
    await store.pushRequestStates(['r1', 'r3', 'missing']),
    new Map([
      ['r1', 'approved'],
      ['r3', 'expired'],
    ]),
  );
});

test('activation codes are spent once, and a device goes with its factor', async (t) => {
  const { store, db } = await freshStore(t);
  const user = await store.createUser(newUser('erin'), T0);
  const code = {
    codeHash: 'hash-1',
    userId: user.id,
    createdBy: 'erin',
    createdAt: T0,
    expiresAt: T0 + 600_000,
  };
  await store.createActivationCode(code);
  assert.deepEqual(await store.consumeActivationCode('hash-1', T0 + 1), code);
  assert.equal(await store.consumeActivationCode('hash-1', T0 + 2), undefined);
  const publicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: 'x'.repeat(43), y: 'y'.repeat(43) };
  const device = await store.addMobileDevice(
    { userId: user.id, name: 'phone', publicKey, createdAt: T0 },
    { label: 'Mobile app: phone', secret: new Uint8Array(randomBytes(20)), params: PARAMS },
  );
  assert.deepEqual((await store.getMobileDevice(device.id))?.publicKey, publicKey);
  const row = await db
    .selectFrom('mobile_devices')
    .selectAll()
    .where('id', '=', device.id)
    .executeTakeFirstOrThrow();
  assert.ok(!row.public_key_enc.includes('xxxx'), 'the key is sealed at rest');
  assert.equal(await store.removeFactor(user.id, device.factorId), true);
  assert.equal(await store.getMobileDevice(device.id), undefined, 'removing the factor removes the device');
});

test('a user deletion is one transaction: a failure part way leaves every row, success leaves none', async (t) => {
  const { store, db } = await freshStore(t);
  const user = await store.createUser(newUser('kim.doe', { pinHash: 'not-a-real-hash' }), T0);
  const other = await store.createUser(newUser('lee.roe'), T0);
  const publicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: 'x'.repeat(43), y: 'y'.repeat(43) };
  for (const u of [user, other]) {
    await store.addTotpFactor(u.id, 'token', new Uint8Array(randomBytes(20)), PARAMS, T0);
    await store.addMobileDevice(
      { userId: u.id, name: 'phone', publicKey, createdAt: T0 },
      { label: 'Mobile app: phone', secret: new Uint8Array(randomBytes(20)), params: PARAMS },
    );
    await store.replaceSecurityAnswers(u.id, [{ questionId: 'first-pet', answerHash: 'h' }], T0);
    await store.createBypass({
      id: `bypass-${u.username}`,
      userId: u.id,
      createdBy: 'cli:root',
      reason: null,
      createdAt: T0,
      expiresAt: T0 + 60_000,
    });
    await store.createEnrollmentWindow({
      id: `window-${u.username}`,
      userId: u.id,
      createdBy: 'cli:root',
      createdAt: T0,
      expiresAt: T0 + 60_000,
    });
    await store.createActivationCode({
      codeHash: `code-${u.username}`,
      userId: u.id,
      createdBy: 'cli:root',
      createdAt: T0,
      expiresAt: T0 + 60_000,
    });
    await store.createPushRequest({
      id: `push-${u.username}`,
      userId: u.id,
      username: u.username,
      challengeId: null,
      channel: 'web',
      application: null,
      clientAddress: '192.0.2.1',
      numberMatching: true,
      number: 42,
      decoys: [1, 2],
      nonce: 'n',
      pinRequired: false,
      createdAt: T0,
      expiresAt: T0 + 60_000,
    });
    await store.createChallenge({
      id: `challenge-${u.username}`,
      userId: null,
      username: u.username,
      channel: 'radius',
      clientAddress: '192.0.2.1',
      method: 'totp',
      maxAttempts: 3,
      createdAt: T0,
      expiresAt: T0 + 60_000,
    });
    await store.addFailure(`user:${u.username}`, T0, 60_000, 5, 60_000);
    await store.createSdkAuthentication({
      id: `sdk-auth-${u.username}`,
      accountId: 'account-1',
      userId: null,
      username: u.username,
      method: 'code',
      challengeId: null,
      pushRequestId: null,
      status: 'code_required',
      reason: null,
      createdAt: T0,
      expiresAt: T0 + 60_000,
      keepUntil: T0 + 600_000,
      finishedAt: null,
    });
    await store.appendAudit(auditEvent({ username: u.username, details: { note: u.username } }));
  }
  const needles = [user.id, 'kim.doe'];
  const before = await rowsMentioning(db, needles);
  assert.ok(Object.keys(before).length >= 12, JSON.stringify(before));
  const options = { regulationSubjects: ['user:kim.doe'] };

  let rewrites = 0;
  await assert.rejects(
    store.deleteUser(user, {
      ...options,
      erase: {
        username: 'kim.doe',
        rewrite: () => {
          rewrites++;
          throw new Error('disk full');
        },
      },
    }),
    /disk full/,
  );
  assert.equal(rewrites, 1);
  assert.deepEqual(await rowsMentioning(db, needles), before, 'rolled back: every row is still there');
  assert.equal(await store.deleteUser({ id: user.id, username: 'lee.roe' }, options), undefined);
  assert.deepEqual(await rowsMentioning(db, needles), before, 'a name that does not match changes nothing');

  const counts = await store.deleteUser(user, {
    ...options,
    erase: {
      username: 'kim.doe',
      rewrite: (e) => ({ ...e, username: 'erased:0123456789abcdef', details: null }),
    },
  });
  assert.deepEqual(counts, {
    factors: 2,
    mobileDevices: 1,
    securityAnswers: 1,
    bypasses: 1,
    enrollmentWindows: 1,
    activationCodes: 1,
    pushRequests: 1,
    challenges: 1,
    regulationCounters: 1,
    sdkAuthentications: 1,
    auditEventsErased: 1,
  });
  assert.deepEqual(await rowsMentioning(db, needles), {});
  const lee = await rowsMentioning(db, [other.id, 'lee.roe']);
  assert.ok(Object.keys(lee).length >= 12, `the other user keeps everything: ${JSON.stringify(lee)}`);
});
