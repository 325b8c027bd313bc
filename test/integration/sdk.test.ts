// The SDK over HTTP against a running service: the OpenAPI document (checked by a validator), the
// three ways to authenticate, every operation's success, bad input, missing scope and missing
// credentials, and the GDPR operations' promises checked in the real SQLite file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { systemRandom } from '../../src/core/random.ts';
import { createSecretHasher, derivePepper } from '../../src/core/secrets/secret-hash.ts';
import { createSqlStore } from '../../src/store/create-store.ts';
import { createSecretBox, parseEncryptionKey } from '../../src/store/secret-box.ts';
import { openSqliteDatabase } from '../../src/store/sqlite.ts';
import { runCli, TEST_KEY } from '../helpers/cli.ts';
import { type GatewaySite, SEEDS, startGatewaySite } from '../helpers/gateway-site.ts';
import { rowsMentioning as rowsIn } from '../helpers/rows-mentioning.ts';

type Call = { method: string; path: string; body?: unknown };

interface Operation {
  id: string;
  scope: string;
  ok: Call & { status: number };
  /** Bad input and the field the error must name: one case, or several. */
  bad?: (Call & { field: string }) | Array<Call & { field: string }>;
}

/** Operations whose success, bad input, 403 and 401 are tested in their own files. */
const TESTED_ELSEWHERE = [
  // sdk-auth.test.ts
  'startAuthentication',
  'getAuthentication',
  'completeAuthenticationWithCode',
  // sdk-edge.test.ts
  'edgeCall',
];

const OPERATIONS: Operation[] = [
  { id: 'ping', scope: 'any', ok: { method: 'GET', path: '/ping', status: 200 } },
  {
    id: 'searchUsers',
    scope: 'users:read',
    ok: { method: 'GET', path: '/users?search=ali&status=enabled', status: 200 },
    bad: { method: 'GET', path: '/users?status=asleep', field: 'querystring.status' },
  },
  {
    id: 'createUser',
    scope: 'users:write',
    ok: { method: 'POST', path: '/users', body: { username: 'zoe', phones: ['+15550100099'] }, status: 201 },
    bad: { method: 'POST', path: '/users', body: { displayName: 'No Name' }, field: 'body.username' },
  },
  {
    id: 'getUser',
    scope: 'users:read',
    ok: { method: 'GET', path: '/users/alice', status: 200 },
    bad: { method: 'GET', path: '/users/a%20b', field: 'params.username' },
  },
  {
    id: 'updateUser',
    scope: 'users:write',
    ok: {
      method: 'PATCH',
      path: '/users/bob',
      body: { phones: ['+15550100002'], language: 'de', pin: '5831' },
      status: 200,
    },
    bad: [
      { method: 'PATCH', path: '/users/bob', body: { phones: ['not a phone'] }, field: 'phones[0]' },
      { method: 'PATCH', path: '/users/bob', body: { pin: '1234' }, field: 'body.pin' },
      { method: 'PATCH', path: '/users/bob', body: { pin: { digits: '5831' } }, field: 'body.pin' },
    ],
  },
  {
    id: 'exportUser',
    scope: 'users:read',
    ok: { method: 'GET', path: '/users/carol/export', status: 200 },
    bad: { method: 'GET', path: '/users/a%20b/export', field: 'params.username' },
  },
  {
    id: 'deleteUser',
    scope: 'users:write',
    ok: { method: 'DELETE', path: '/users/yann', status: 200 },
    bad: [{ method: 'DELETE', path: '/users/yann?erase=perhaps', field: 'querystring.erase' }],
  },
  {
    id: 'verifyCode',
    scope: 'auth',
    ok: { method: 'POST', path: '/users/alice/verify-code', body: { code: 'CODE:alice' }, status: 200 },
    bad: { method: 'POST', path: '/users/alice/verify-code', body: { code: '12ab' }, field: 'body.code' },
  },
  {
    id: 'createBypass',
    scope: 'admin',
    ok: {
      method: 'POST',
      path: '/users/erin/bypass',
      body: { seconds: 300, reason: 'lost phone' },
      status: 201,
    },
    bad: { method: 'POST', path: '/users/erin/bypass', body: { seconds: 0 }, field: 'body.seconds' },
  },
  {
    id: 'issueEnrollmentWindow',
    scope: 'admin',
    ok: { method: 'POST', path: '/users/frank/enrollment-window', body: { hours: 24 }, status: 201 },
    bad: {
      method: 'POST',
      path: '/users/frank/enrollment-window',
      body: { hours: 'a day' },
      field: 'body.hours',
    },
  },
  {
    id: 'createMobileActivation',
    scope: 'users:write',
    ok: { method: 'POST', path: '/users/grace/mobile-activation', status: 201 },
    bad: { method: 'POST', path: '/users/a%20b/mobile-activation', field: 'params.username' },
  },
  {
    id: 'queryAudit',
    scope: 'admin',
    ok: { method: 'GET', path: '/audit?type=sdk.&limit=5', status: 200 },
    bad: { method: 'GET', path: '/audit?limit=100000', field: 'querystring.limit' },
  },
];

describe('SDK', () => {
  let site: GatewaySite;
  const tokens: Record<string, string> = {};

  async function createAccount(name: string, scopes: string, ...extra: string[]) {
    const result = await runCli([
      'accounts',
      'create',
      name,
      '--scopes',
      scopes,
      ...extra,
      '--config',
      join(site.dir, 'config.yaml'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    const token = /token: (\S+)/.exec(result.stdout)?.[1];
    assert.ok(token);
    tokens[name] = token;
  }

  before(async () => {
    site = await startGatewaySite({
      apps: "    - { name: intranet, match: { pathPrefix: / }, upstream: 'http://127.0.0.1:9', policy: two_factor }",
      portalExtra: '  methods: [totp, push]\n  mobileApp: { allow: true }',
    });
    await createAccount('reader', 'users:read');
    await createAccount('writer', 'users:write');
    await createAccount('authn', 'auth');
    await createAccount('admin', 'admin');
    await createAccount('everything', 'users:read,users:write,auth,admin');
    await createAccount('elsewhere', 'users:read', '--network', '10.0.0.0/8');
    const yann = await sdk({ method: 'POST', path: '/users', body: { username: 'yann' } }, bearer('writer'));
    assert.equal(yann.status, 201, 'the user the deleteUser row deletes');
  });
  after(async () => {
    await site.stop();
  });

  const sdk = (call: Call, authorization?: string) =>
    fetch(`${site.url}/sdk/v1${call.path}`, {
      method: call.method,
      headers: {
        ...(authorization ? { authorization } : {}),
        ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
  const bearer = (name: string) => `Bearer ${tokens[name]}`;
  const withCodes = (call: Call): Call =>
    call.body &&
    typeof call.body === 'object' &&
    'code' in call.body &&
    String(call.body.code).startsWith('CODE:')
      ? { ...call, body: { code: site.code(String(call.body.code).slice(5)) } }
      : call;

  it('the OpenAPI document is valid OpenAPI 3.1 and lists every operation', async () => {
    const response = await fetch(`${site.url}/sdk/v1/openapi.json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    const result = await new Validator().validate(document as never);
    assert.deepEqual(result.errors ?? [], [], JSON.stringify(result.errors));
    assert.equal(result.valid, true);
    assert.equal(document.openapi, '3.1.0');
    const ids = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((m) => m.operationId),
    );
    assert.deepEqual(ids.sort(), ['health', ...OPERATIONS.map((o) => o.id), ...TESTED_ELSEWHERE].sort());
  });

  it('an unknown SDK path is a JSON 404 and never reaches the gateway', async () => {
    const response = await sdk({ method: 'GET', path: '/no-such-operation' }, bearer('reader'));
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { code: string }).code, 'not_found');
  });

  it('health answers without credentials', async () => {
    const response = await sdk({ method: 'GET', path: '/health' });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  it('a bearer token, and HTTP Basic with the account name and token, both authenticate', async () => {
    const byBearer = await sdk({ method: 'GET', path: '/ping' }, bearer('reader'));
    assert.equal(byBearer.status, 200);
    assert.deepEqual(await byBearer.json(), { account: 'reader', scopes: ['users:read'] });
    const basic = `Basic ${Buffer.from(`reader:${tokens.reader}`).toString('base64')}`;
    assert.equal((await sdk({ method: 'GET', path: '/ping' }, basic)).status, 200);
  });

  it('a 401 never says whether the account exists', async () => {
    const answers = await Promise.all(
      [
        undefined,
        'Bearer mfa_sa_not-a-real-token',
        `Basic ${Buffer.from(`reader:${tokens.writer}`).toString('base64')}`,
        `Basic ${Buffer.from(`nobody:${tokens.writer}`).toString('base64')}`,
      ].map(async (authorization) => {
        const response = await sdk({ method: 'GET', path: '/ping' }, authorization);
        return { status: response.status, body: await response.text() };
      }),
    );
    for (const answer of answers) assert.deepEqual(answer, answers[0]);
    assert.equal(answers[0]?.status, 401);
    assert.equal(JSON.parse(answers[0]?.body ?? '{}').code, 'auth.required');
  });

  it('a call from outside the account’s networks is refused', async () => {
    const response = await sdk({ method: 'GET', path: '/users/alice' }, bearer('elsewhere'));
    assert.equal(response.status, 403);
    assert.equal(((await response.json()) as { code: string }).code, 'auth.forbidden');
  });

  for (const operation of OPERATIONS) {
    describe(operation.id, () => {
      it('succeeds with the scope it needs', async () => {
        const account =
          operation.scope === 'any'
            ? 'reader'
            : ((
                {
                  'users:read': 'reader',
                  'users:write': 'writer',
                  auth: 'authn',
                  admin: 'admin',
                } as Record<string, string>
              )[operation.scope] ?? 'everything');
        const response = await sdk(withCodes(operation.ok), bearer(account));
        assert.equal(response.status, operation.ok.status, await response.clone().text());
        assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      });

      it('without credentials is 401', async () => {
        const response = await sdk(operation.ok);
        assert.equal(response.status, 401);
      });

      if (operation.scope !== 'any')
        it('without its scope is 403', async () => {
          const other = operation.scope === 'admin' ? 'reader' : 'admin';
          const response = await sdk(operation.ok, bearer(other));
          assert.equal(response.status, 403);
          assert.equal(((await response.json()) as { code: string }).code, 'auth.forbidden');
        });

      const bad = operation.bad === undefined ? [] : [operation.bad].flat();
      if (bad.length > 0)
        it('bad input is 400 and names the field', async () => {
          for (const call of bad) {
            const response = await sdk(call, bearer('everything'));
            assert.equal(response.status, 400, call.field);
            const body = (await response.json()) as { code: string; field?: string; stack?: unknown };
            assert.equal(body.code, 'input.invalid');
            assert.equal(body.field, call.field);
            assert.equal(body.stack, undefined);
          }
        });
    });
  }

  it('every call is audited with the account as the actor', async () => {
    const response = await sdk({ method: 'GET', path: '/audit?type=sdk.call&limit=200' }, bearer('admin'));
    const { events } = (await response.json()) as {
      events: Array<{ actor: string | null; reason: string; details: { status: number } }>;
    };
    assert.ok(
      events.some((e) => e.actor === 'sdk:writer' && e.reason === 'createUser' && e.details.status === 201),
    );
    assert.ok(
      events.some((e) => e.actor === null && e.details.status === 401),
      'refused calls too',
    );
  });
  describe('a user’s data (GDPR) and PIN', () => {
    const key = parseEncryptionKey(TEST_KEY);
    /** A second connection to the site's SQLite file: to give a user rows the SDK cannot make, and to look. */
    const open = () => {
      const db = openSqliteDatabase({ path: join(site.dir, 'data', 'mfa.db'), busyTimeoutMs: 5000 });
      return { db, store: createSqlStore(db, { secretBox: createSecretBox(key), random: systemRandom }) };
    };
    const json = async <T>(response: Response, status: number): Promise<T> => {
      assert.equal(response.status, status, await response.clone().text());
      return (await response.json()) as T;
    };

    /** Per table, the rows of the site's store that mention any needle. */
    async function rowsMentioning(needles: string[]): Promise<Record<string, number>> {
      const { db, store } = open();
      try {
        return await rowsIn(db, needles);
      } finally {
        await store.close();
      }
    }

    /** A user with a row in every table the store keeps about users, made through the SDK where it can. */
    async function userWithEverything(username: string) {
      await json(await sdk({ method: 'POST', path: '/users', body: { username } }, bearer('writer')), 201);
      const calls: Array<[Call, string, number]> = [
        [{ method: 'PATCH', path: `/users/${username}`, body: { pin: '5831' } }, 'writer', 200],
        [{ method: 'POST', path: `/users/${username}/bypass`, body: { seconds: 300 } }, 'admin', 201],
        [{ method: 'POST', path: `/users/${username}/enrollment-window`, body: { hours: 2 } }, 'admin', 201],
        [{ method: 'POST', path: `/users/${username}/mobile-activation` }, 'writer', 201],
      ];
      for (const [call, account, status] of calls) await json(await sdk(call, bearer(account)), status);
      const { store } = open();
      try {
        const user = await store.findUserByName(username);
        assert.ok(user);
        const now = Date.now();
        const secret = new Uint8Array(randomBytes(20));
        const params = { algorithm: 'sha1', digits: 6, period: 30 } as const;
        await store.addTotpFactor(user.id, 'token', secret, params, now);
        const publicKey = { kty: 'EC', crv: 'P-256', x: 'K'.repeat(43), y: 'Q'.repeat(43) } as const;
        const device = await store.addMobileDevice(
          { userId: user.id, name: 'phone', publicKey, createdAt: now },
          { label: 'Mobile app: phone', secret: new Uint8Array(randomBytes(20)), params },
        );
        const subscription = {
          endpoint: 'https://push.example.test/e/1',
          p256dh: 'P'.repeat(87),
          auth: 'A'.repeat(22),
        };
        await store.setPushSubscription(device.id, subscription);
        const hasher = createSecretHasher(derivePepper(key), systemRandom);
        const answerHash = await hasher.hash('fluffy');
        await store.replaceSecurityAnswers(user.id, [{ questionId: 'first-pet', answerHash }], now);
        await store.createPushRequest({
          id: `push-${username}`,
          userId: user.id,
          username,
          challengeId: null,
          channel: 'web',
          application: 'intranet',
          clientAddress: '127.0.0.1',
          numberMatching: true,
          number: 42,
          decoys: [17, 88],
          nonce: 'nonce',
          pinRequired: false,
          createdAt: now,
          expiresAt: now + 120_000,
        });
        await store.createChallenge({
          id: `challenge-${username}`,
          userId: user.id,
          username,
          channel: 'radius',
          clientAddress: '127.0.0.1',
          method: 'totp',
          maxAttempts: 3,
          createdAt: now,
          expiresAt: now + 300_000,
        });
        await store.addFailure(`user:${username}`, now, 300_000, 50, 900_000);
        await store.createSdkAuthentication({
          id: `sdk-auth-${username}`,
          accountId: 'account-1',
          userId: user.id,
          username,
          method: 'push',
          challengeId: null,
          pushRequestId: `push-${username}`,
          status: 'pending',
          reason: null,
          createdAt: now,
          expiresAt: now + 120_000,
          keepUntil: now + 600_000,
          finishedAt: null,
        });
        const pinHash = (await store.findUserByName(username))?.pinHash;
        assert.ok(pinHash);
        return { user, secret, publicKey, subscription, answerHash, pinHash };
      } finally {
        await store.close();
      }
    }

    type Deleted = { username: string; erased: boolean; auditName: string; removed: Record<string, number> };
    type AuditAnswer = {
      events: Array<{
        reason: string | null;
        type: string;
        username: string | null;
        actor: string | null;
        clientAddress: string | null;
      }>;
    };

    it('deleting a user leaves no row about them in any table', async () => {
      const { user } = await userWithEverything('ulla.deleted');
      const needles = [user.id, 'ulla.deleted'];
      const before = await rowsMentioning(needles);
      for (const table of [
        'users',
        'factors',
        'mobile_devices',
        'security_answers',
        'bypasses',
        'enrollment_windows',
        'activation_codes',
        'push_requests',
        'challenges',
        'regulation_counters',
        'sdk_authentications',
        'audit_events',
      ])
        assert.ok(before[table], `set up: ${table} has a row about the user (${JSON.stringify(before)})`);

      const deleted = await json<Deleted>(
        await sdk({ method: 'DELETE', path: '/users/ulla.deleted' }, bearer('writer')),
        200,
      );
      assert.equal(deleted.erased, false);
      assert.equal(deleted.auditName, 'ulla.deleted');
      assert.equal(deleted.removed.factors, 2, 'the token and the phone’s seed');

      const { audit_events: audit, ...rest } = await rowsMentioning(needles);
      // The only row left outside the audit log: the cut-off that keeps cookies issued before the
      // deletion dead, swept once the longest session has expired.
      assert.deepEqual(rest, { session_revocations: 1 });
      assert.ok(audit, 'a plain deletion keeps the security log');
      const { events } = await json<AuditAnswer>(
        await sdk(
          { method: 'GET', path: '/audit?user=ulla.deleted&type=admin.user_delete' },
          bearer('admin'),
        ),
        200,
      );
      assert.equal(events[0]?.actor, 'sdk:writer');
      for (const call of [
        { method: 'DELETE', path: '/users/ulla.deleted' },
        { method: 'GET', path: '/users/ulla.deleted/export' },
      ]) {
        const gone = await json<{ code: string }>(await sdk(call, bearer('everything')), 404);
        assert.equal(gone.code, 'user.not_found');
      }
    });

    it('erasure pseudonymises the user’s audit events', async () => {
      const { user } = await userWithEverything('ed.erased');
      await json(await sdk({ method: 'GET', path: '/users/ed.erased/export' }, bearer('reader')), 200);
      // A wrong code: an event of their own (no actor), from their address.
      const wrong = await sdk(
        { method: 'POST', path: '/users/ed.erased/verify-code', body: { code: '000000' } },
        bearer('authn'),
      );
      assert.ok(wrong.status >= 400);
      const deleted = await json<Deleted>(
        await sdk({ method: 'DELETE', path: '/users/ed.erased?erase=true' }, bearer('writer')),
        200,
      );
      assert.equal(deleted.erased, true);
      assert.match(deleted.auditName, /^erased:[0-9a-f]{16}$/);
      assert.ok((deleted.removed.auditEventsErased ?? 0) >= 6, JSON.stringify(deleted.removed));

      // The SDK records each call once its answer is sent: wait for its record of this one.
      let events: AuditAnswer['events'] = [];
      for (let tries = 0; !events.some((e) => e.reason === 'deleteUser') && tries < 50; tries++) {
        if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 20));
        const path = `/audit?user=${deleted.auditName}&limit=100`;
        ({ events } = await json<AuditAnswer>(await sdk({ method: 'GET', path }, bearer('admin')), 200));
      }
      assert.ok(
        events.some((e) => e.reason === 'deleteUser'),
        'the SDK audits the call under the pseudonym',
      );
      // Nothing names them any more, the audit log included, but the session cut-off.
      assert.deepEqual(await rowsMentioning([user.id, 'ed.erased']), { session_revocations: 1 });
      const types = new Set(events.map((e) => e.type));
      for (const type of [
        'admin.user_add',
        'admin.bypass_issued',
        'admin.user_export',
        'sdk.call',
        'admin.user_delete',
      ])
        assert.ok(types.has(type), `${type} is kept under the pseudonym: ${[...types].join(', ')}`);
      const own = events.filter((e) => e.actor === null && e.type !== 'sdk.call');
      assert.ok(own.length > 0, 'their own events are kept');
      assert.ok(
        own.every((e) => e.clientAddress === '127.0.0.0/24'),
        'their address is cut to its network',
      );
      assert.ok(
        events.some((e) => e.actor === 'sdk:writer' && e.clientAddress === '127.0.0.1'),
        'the accounts that acted stay accountable, with their address',
      );
    });

    it('an export never contains a seed, key, PIN hash or answer', async () => {
      const { secret, publicKey, subscription, answerHash, pinHash } =
        await userWithEverything('xena.export');
      const text = await (
        await sdk({ method: 'GET', path: '/users/xena.export/export' }, bearer('reader'))
      ).text();
      const exported = JSON.parse(text) as {
        user: { username: string; pinSet: boolean };
        factors: Array<{ label: string; kind: string }>;
        mobileDevices: Array<{ name: string; pushEnabled: boolean }>;
        securityQuestions: { answered: string[] };
        enrollmentWindow: { expiresAt: string } | null;
        auditEvents: { limit: number; truncated: boolean; events: unknown[] };
      };
      assert.equal(exported.user.username, 'xena.export');
      assert.equal(exported.user.pinSet, true);
      assert.deepEqual(exported.factors.map((f) => f.kind).sort(), ['mobile', 'totp']);
      assert.deepEqual(exported.mobileDevices, [
        { ...exported.mobileDevices[0], name: 'phone', pushEnabled: true },
      ]);
      assert.deepEqual(exported.securityQuestions.answered, ['first-pet']);
      assert.ok(exported.enrollmentWindow);
      assert.equal(exported.auditEvents.limit, 1000);
      assert.ok(exported.auditEvents.events.length > 0);
      for (const leak of [
        Buffer.from(secret).toString('hex'),
        Buffer.from(secret).toString('base64'),
        publicKey.x,
        publicKey.y,
        subscription.endpoint,
        subscription.p256dh,
        subscription.auth,
        answerHash,
        'fluffy',
        pinHash,
        '$argon2id$',
        'secret',
      ])
        assert.ok(!text.includes(leak), `the export holds ${leak}`);
      const alice = await (
        await sdk({ method: 'GET', path: '/users/alice/export' }, bearer('reader'))
      ).text();
      assert.ok(!alice.includes(SEEDS.alice), 'a seed imported as base32 is not in it either');
    });

    it('a PIN set through the SDK is held to the portal’s rules and hashed with the pepper; null clears it', async () => {
      type User = { pinSet: boolean };
      const set = await json<User>(
        await sdk({ method: 'PATCH', path: '/users/dave', body: { pin: '7294' } }, bearer('writer')),
        200,
      );
      assert.equal(set.pinSet, true);
      const { store } = open();
      try {
        const hash = (await store.findUserByName('dave'))?.pinHash ?? '';
        const hasher = createSecretHasher(derivePepper(key), systemRandom);
        assert.equal(await hasher.verify('7294', hash), true);
        assert.equal(await createSecretHasher(new Uint8Array(32), systemRandom).verify('7294', hash), false);
      } finally {
        await store.close();
      }
      const weak = await json<{ field: string; message: string }>(
        await sdk(
          { method: 'PATCH', path: '/users/dave', body: { pin: '2580', language: 'fr' } },
          bearer('writer'),
        ),
        400,
      );
      assert.equal(weak.field, 'body.pin');
      const unchanged = await json<User & { language: string | null }>(
        await sdk({ method: 'GET', path: '/users/dave' }, bearer('reader')),
        200,
      );
      assert.equal(unchanged.pinSet, true);
      assert.notEqual(unchanged.language, 'fr', 'a refused PIN changes nothing else either');
      const cleared = await json<User>(
        await sdk({ method: 'PATCH', path: '/users/dave', body: { pin: null } }, bearer('writer')),
        200,
      );
      assert.equal(cleared.pinSet, false);
    });
  });
});
