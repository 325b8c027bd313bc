// The SDK over HTTP against a running service: the OpenAPI document (checked by a validator), the
// three ways to authenticate, and every operation's success, bad input, missing scope and missing
// credentials.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { runCli } from '../helpers/cli.ts';
import { type GatewaySite, startGatewaySite } from '../helpers/gateway-site.ts';

type Call = { method: string; path: string; body?: unknown };

interface Operation {
  id: string;
  scope: string;
  ok: Call & { status: number };
  /** Bad input and the field the error must name. */
  bad?: Call & { field: string };
}

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
      body: { phones: ['+15550100002'], language: 'de' },
      status: 200,
    },
    bad: { method: 'PATCH', path: '/users/bob', body: { phones: ['not a phone'] }, field: 'phones[0]' },
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
    assert.deepEqual(ids.sort(), ['health', ...OPERATIONS.map((o) => o.id)].sort());
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

      const { bad } = operation;
      if (bad)
        it('bad input is 400 and names the field', async () => {
          const response = await sdk(bad, bearer('everything'));
          assert.equal(response.status, 400);
          const body = (await response.json()) as { code: string; field?: string; stack?: unknown };
          assert.equal(body.code, 'input.invalid');
          assert.equal(body.field, bad.field);
          assert.equal(body.stack, undefined);
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
});
