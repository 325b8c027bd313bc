// The SDK's authenticate operations in-process: the real services over a SQLite store and a users
// file, the SDK's own scope (credentials, networks, scopes, audit) answering through inject(), and
// the mobile API on a loopback port for the simulated phone (test/helpers/phone.ts), which answers
// pushes exactly as the web authenticator does. Codes come from oathtool and from otplib.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { generate } from 'otplib';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { createNetworkList } from '../../src/core/policy/networks.ts';
import { base32Decode } from '../../src/core/secrets/base32.ts';
import { hashPassword } from '../../src/core/secrets/password-hash.ts';
import { buildHttpServer, VERSION } from '../../src/http/server.ts';
import { buildServices } from '../../src/main.ts';
import { createMobileService } from '../../src/mobile/mobile.ts';
import { openApiDocument } from '../../src/sdk/openapi.ts';
import { createSdk, type Sdk } from '../../src/sdk/sdk.ts';
import { TEST_KEY } from '../helpers/cli.ts';
import { DEFAULT_USERS, oathtoolCode, type SiteUser } from '../helpers/gateway-site.ts';
import { activatePhone, nextRequest, type Phone } from '../helpers/phone.ts';

const USERS: SiteUser[] = [
  ...DEFAULT_USERS,
  { username: 'heidi', password: 'heidi-pw', seed: 'NBSWY3DPNBSWY3DPNBSWY3DPNBSWY3DP' },
  { username: 'ivan', password: 'ivan-pw', seed: 'NF3GC3RNNF3GC3RNNF3GC3RNNF3GC3RN' },
];
const ADMIN = { actor: 'test', channel: 'cli' as const, clientAddress: 'local' };
const FAST_HASH = { ln: 10, r: 8, p: 1 };

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** The services, the SDK with the authenticate operations, and the mobile API on a loopback port. */
async function startSite() {
  const dir = mkdtempSync(join(tmpdir(), 'mfa-sdk-auth-'));
  const entries = await Promise.all(
    USERS.map(
      async (u) =>
        `  - username: ${u.username}\n    passwordHash: "${await hashPassword(u.password, FAST_HASH)}"\n    groups: []`,
    ),
  );
  writeFileSync(join(dir, 'users.yaml'), `users:\n${entries.join('\n')}\n`);
  writeFileSync(
    join(dir, 'config.yaml'),
    `server:
  listen: [{ host: 127.0.0.1, port: 9 }]
  publicUrl: http://127.0.0.1
store:
  sqlite: { path: data/mfa.db }
  encryptionKey: ${TEST_KEY}
directory:
  type: file
  file: { path: users.yaml }
auth:
  primaryMinDurationMs: 0
regulation:
  user: { maxFailures: 3 }
  address: { maxFailures: 200 }
portal:
  rateLimitPerMinute: 1000
  methods: [totp, push]
  mobileApp: { allow: true }
gateway:
  apps:
    - { name: intranet, match: { pathPrefix: / }, upstream: 'http://127.0.0.1:9', policy: two_factor }
log:
  level: silent
`,
  );
  const logger = pino({ level: 'silent' });
  const services = await buildServices(loadConfig(join(dir, 'config.yaml')), { logger });
  await services.importUsers({}, ADMIN, { allowEmpty: false });
  for (const u of USERS) if (u.seed) await services.userAdmin.enrollTotp(u.username, ADMIN, 'test', u.seed);
  const sdk: Sdk = createSdk({
    core: services,
    clock: services.clock,
    publicUrl: 'http://127.0.0.1',
    version: VERSION,
    rateLimitPerMinute: 10_000,
    health: async () => 'ok',
  });
  const mobile = createMobileService({
    core: { push: services.push, enrollment: services.enrollment },
    vapidPublicKey: undefined,
    rateLimitPerMinute: 1000,
  });
  const app: FastifyInstance = await buildHttpServer({
    health: { store: () => services.store.ping(), directory: () => services.directory.ping() },
    logger,
    trustedProxies: createNetworkList([]),
    mobile,
    sdk,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    core: services,
    sdk,
    url: address,
    port: Number(new URL(address).port),
    async stop() {
      await app.close();
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('SDK authentications', () => {
  let site: Awaited<ReturnType<typeof startSite>>;
  const tokens: Record<string, string> = {};
  const phones = new Map<string, Phone>();
  const lastStep = new Map<string, number>();

  before(async () => {
    site = await startSite();
    for (const [name, scopes] of [
      ['authn', ['auth']],
      ['other-app', ['auth']],
      ['reader', ['users:read']],
    ] as const) {
      const { token } = await site.core.accounts.create({ name, scopes }, ADMIN);
      tokens[name] = token;
    }
  });
  after(async () => {
    await site.stop();
  });

  async function sdk(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    account: string | null = 'authn',
  ): Promise<Answer> {
    const response = await site.app.inject({
      method,
      url: `/sdk/v1${path}`,
      headers: account ? { authorization: `Bearer ${tokens[account]}` } : {},
      ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
    });
    return { status: response.statusCode, body: response.json() };
  }

  const start = (body: Record<string, unknown>, account = 'authn') =>
    sdk('POST', '/authentications', body, account);
  const poll = (id: unknown, wait?: number, account = 'authn') =>
    sdk(
      'GET',
      `/authentications/${String(id)}${wait === undefined ? '' : `?wait=${wait}`}`,
      undefined,
      account,
    );
  const complete = (id: unknown, code: string, account = 'authn') =>
    sdk('POST', `/authentications/${String(id)}/code`, { code }, account);

  /** The next unused code of a user (this step, or the next within the ±1 window), by oathtool or otplib. */
  async function codeOf(username: string, via: 'oathtool' | 'otplib' = 'oathtool'): Promise<string> {
    const seed = USERS.find((u) => u.username === username)?.seed;
    assert.ok(seed, `${username} has a seed`);
    const now = Math.floor(Date.now() / 30_000);
    const step = Math.max(now, (lastStep.get(username) ?? now - 1) + 1);
    assert.ok(step <= now + 1, `${username}: no unused code left in the window`);
    lastStep.set(username, step);
    return via === 'oathtool'
      ? oathtoolCode(seed, step)
      : generate({ secret: base32Decode(seed), epoch: step * 30 });
  }

  async function phoneOf(username: string): Promise<Phone> {
    let phone = phones.get(username);
    if (!phone) {
      const { code } = await site.core.enrollment.issueActivationCodeAsAdmin(username, ADMIN);
      phone = await activatePhone(site.url, code);
      phones.set(username, phone);
    }
    return phone;
  }

  /** The phone takes the request it is shown and answers it. */
  async function answerOnPhone(username: string, decision: 'approve' | 'deny' | 'fraud') {
    const phone = await phoneOf(username);
    const request = await nextRequest(phone);
    assert.deepEqual(request.choices, [], 'out of band: the integration has no number to show');
    const answered = await phone.answer(request, decision, null);
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
  }

  /** Resolves once a wait is held in this process (the long poll has joined the push hub). */
  async function held(count = 1): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (site.core.pushHub.size().requests < count) {
      assert.ok(Date.now() < deadline, 'the wait was never held');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('the OpenAPI document describes the three operations and stays valid OpenAPI 3.1', async () => {
    const document = openApiDocument(site.sdk.routes, VERSION, site.url) as unknown as {
      paths: Record<string, Record<string, { operationId: string; requestBody?: unknown }>>;
    };
    const result = await new Validator().validate(document as never);
    assert.deepEqual(result.errors ?? [], [], JSON.stringify(result.errors));
    assert.equal(document.paths['/authentications']?.post?.operationId, 'startAuthentication');
    assert.equal(document.paths['/authentications/{id}']?.get?.operationId, 'getAuthentication');
    assert.equal(
      document.paths['/authentications/{id}/code']?.post?.operationId,
      'completeAuthenticationWithCode',
    );
    const text = JSON.stringify(document.paths['/authentications']);
    assert.match(text, /"code_required"/);
    assert.match(text, /"maximum":60/);
  });

  describe('startAuthentication', () => {
    it('succeeds with the auth scope: password checked, then a code is required', async () => {
      const answer = await start({ username: 'alice', password: 'alice-pw', method: 'code' });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.status, 'code_required');
      assert.equal(answer.body.method, 'code');
      assert.match(String(answer.body.id), /^[A-Za-z0-9_-]{24}$/);
      assert.ok(Date.parse(String(answer.body.expiresAt)) > Date.now());
    });

    it('bad input is 400 and names the field', async () => {
      for (const [body, field] of [
        [{ username: 'alice', wait: 61 }, 'body.wait'],
        [{ username: 'alice', method: 'sms' }, 'body.method'],
        [{ username: 'alice', password: '' }, 'body.password'],
        [{ password: 'alice-pw' }, 'body.username'],
      ] as const) {
        const answer = await start(body);
        assert.equal(answer.status, 400, field);
        assert.equal(answer.body.code, 'input.invalid');
        assert.equal(answer.body.field, field);
        assert.equal(answer.body.stack, undefined);
      }
    });

    it('without the auth scope is 403', async () => {
      const answer = await start({ username: 'alice' }, 'reader');
      assert.equal(answer.status, 403);
      assert.equal(answer.body.code, 'auth.forbidden');
    });

    it('without credentials is 401', async () => {
      const answer = await sdk('POST', '/authentications', { username: 'alice' }, null);
      assert.equal(answer.status, 401);
      assert.equal(answer.body.code, 'auth.required');
    });

    it('a wrong password and a user with nothing enrolled are refused before any second factor', async () => {
      const wrong = await start({ username: 'alice', password: 'not-it' });
      assert.deepEqual([wrong.status, wrong.body.code], [401, 'auth.invalid_credentials']);
      const nothing = await start({ username: 'carol' });
      assert.deepEqual([nothing.status, nothing.body.code], [403, 'auth.no_second_factor']);
    });
  });

  describe('getAuthentication', () => {
    it('succeeds with the auth scope', async () => {
      const started = await start({ username: 'heidi', method: 'code' });
      const answer = await poll(started.body.id);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, started.body);
    });

    it('bad input is 400 and names the field', async () => {
      for (const [path, field] of [
        ['/authentications/AAAAAAAAAAAAAAAAAAAAAAAA?wait=61', 'querystring.wait'],
        ['/authentications/AAAAAAAAAAAAAAAAAAAAAAAA?wait=soon', 'querystring.wait'],
        ['/authentications/not-an-id', 'params.id'],
      ] as const) {
        const answer = await sdk('GET', path);
        assert.equal(answer.status, 400, path);
        assert.equal(answer.body.field, field);
      }
    });

    it('without the auth scope is 403', async () => {
      assert.equal((await poll('A'.repeat(24), undefined, 'reader')).status, 403);
    });

    it('without credentials is 401', async () => {
      assert.equal((await sdk('GET', `/authentications/${'A'.repeat(24)}`, undefined, null)).status, 401);
    });
  });

  describe('completeAuthenticationWithCode', () => {
    it('succeeds with the auth scope and a code from the authenticator', async () => {
      const started = await start({ username: 'alice', password: 'alice-pw', method: 'code' });
      const answer = await complete(started.body.id, await codeOf('alice'));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual([answer.body.status, answer.body.reason], ['approved', 'code']);
      assert.equal((await poll(started.body.id)).body.status, 'approved');
    });

    it('bad input is 400 and names the field', async () => {
      const answer = await complete('A'.repeat(24), '12ab');
      assert.deepEqual([answer.status, answer.body.field], [400, 'body.code']);
    });

    it('without the auth scope is 403', async () => {
      assert.equal((await complete('A'.repeat(24), '123456', 'reader')).status, 403);
    });

    it('without credentials is 401', async () => {
      const answer = await sdk('POST', `/authentications/${'A'.repeat(24)}/code`, { code: '123456' }, null);
      assert.equal(answer.status, 401);
    });
  });

  it('a push approved on the phone is reported approved to the poller', async () => {
    await phoneOf('bob');
    // No method: bob's own, which activating the phone made push.
    const started = await start({ username: 'bob' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.deepEqual([started.body.status, started.body.method], ['pending', 'push']);
    assert.equal((await poll(started.body.id)).body.status, 'pending');
    await answerOnPhone('bob', 'approve');
    const polled = await poll(started.body.id);
    assert.deepEqual([polled.status, polled.body.status, polled.body.reason], [200, 'approved', 'push']);
    const later = { status: 'denied' as const, reason: 'denied', at: Date.now() };
    assert.equal(await site.core.store.finishSdkAuthentication(String(started.body.id), later), false);
    assert.equal((await poll(started.body.id)).body.status, 'approved', 'and stays approved');
  });

  it('a long poll returns as soon as the phone answers', async () => {
    await phoneOf('erin');
    const started = await start({ username: 'erin', method: 'push' });
    const polling = poll(started.body.id, 30);
    await held();
    const answeredAt = Date.now();
    await answerOnPhone('erin', 'approve');
    const polled = await polling;
    assert.equal(polled.body.status, 'approved');
    assert.ok(Date.now() - answeredAt < 2_000, 'not at the end of the 30 s hold');
  });

  it('a synchronous start waits for the approval', async () => {
    const starting = start({ username: 'bob', password: 'bob-pw', method: 'push', wait: 30 });
    await held();
    await answerOnPhone('bob', 'approve');
    const started = await starting;
    assert.equal(started.status, 201);
    assert.deepEqual([started.body.status, started.body.reason], ['approved', 'push']);
  });

  it('denial and fraud report come back as denied', async () => {
    await phoneOf('grace');
    const denied = await start({ username: 'erin', method: 'push' });
    await answerOnPhone('erin', 'deny');
    const deniedResult = await poll(denied.body.id, 10);
    assert.deepEqual([deniedResult.body.status, deniedResult.body.reason], ['denied', 'denied']);

    const reported = start({ username: 'grace', method: 'push', wait: 30 });
    await held();
    await answerOnPhone('grace', 'fraud');
    const fraud = await reported;
    assert.deepEqual([fraud.body.status, fraud.body.reason], ['denied', 'fraud']);
    const blocked = await start({ username: 'grace', method: 'push' });
    assert.deepEqual([blocked.status, blocked.body.code], [401, 'auth.locked']);
  });

  it('another service account cannot read an authentication it did not start', async () => {
    const started = await start({ username: 'heidi', method: 'code' });
    const unknown = await poll('B'.repeat(24), undefined, 'other-app');
    const foreign = await poll(started.body.id, undefined, 'other-app');
    assert.equal(foreign.status, 404);
    assert.deepEqual(foreign.body, unknown.body, 'the same answer as an id that never existed');
    const completing = await complete(started.body.id, '123456', 'other-app');
    assert.deepEqual(completing, unknown);
    assert.equal((await poll(started.body.id)).body.status, 'code_required', 'the owner still reads it');
  });

  it('a wrong code is counted and the user is locked out after the limit', async () => {
    const started = await start({ username: 'frank', password: 'frank-pw', method: 'code' });
    const good = await codeOf('frank');
    const bad = `${good.slice(0, -1)}${(Number(good.at(-1)) + 5) % 10}`;
    for (let i = 0; i < 3; i++) {
      const answer = await complete(started.body.id, bad);
      assert.deepEqual([answer.status, answer.body.code], [401, 'auth.invalid_code']);
    }
    const failed = await poll(started.body.id);
    assert.deepEqual([failed.body.status, failed.body.reason], ['failed', 'auth.too_many_attempts']);
    const late = await complete(started.body.id, good);
    assert.deepEqual([late.status, late.body.code], [401, 'auth.challenge_expired']);
    const again = await start({ username: 'frank', password: 'frank-pw', method: 'code' });
    assert.deepEqual([again.status, again.body.code], [401, 'auth.locked']);
    const lockouts = await site.core.auditQuery({ type: 'regulation.lockout', username: 'frank' });
    assert.equal(lockouts.length, 1);
  });

  it('second-factor-only never binds to the directory', async () => {
    const directory = site.core.directory;
    const original = directory.authenticate;
    let binds = 0;
    directory.authenticate = async (username, password) => {
      binds++;
      return original.call(directory, username, password);
    };
    try {
      const started = await start({ username: 'dave', method: 'code' });
      assert.equal(started.body.status, 'code_required');
      const done = await complete(started.body.id, await codeOf('dave', 'otplib'));
      assert.equal(done.body.status, 'approved');
      assert.equal(binds, 0);
      const unknown = await start({ username: 'nobody-here' });
      assert.deepEqual([unknown.status, unknown.body.code], [401, 'auth.user_not_enrolled']);
      assert.equal(binds, 0);
      await start({ username: 'dave', password: 'dave-pw', method: 'code' });
      assert.equal(binds, 1, 'the count does see a password start');
    } finally {
      directory.authenticate = original;
    }
    const [primary] = await site.core.auditQuery({ type: 'auth.primary', username: 'dave', limit: 1 });
    assert.deepEqual([primary?.reason, primary?.application], ['asserted_by_application', 'authn']);
  });

  it('a code is accepted once', async () => {
    const first = await start({ username: 'ivan', password: 'ivan-pw', method: 'code' });
    const code = await codeOf('ivan');
    assert.equal((await complete(first.body.id, code)).body.status, 'approved');
    const replayed = await complete(first.body.id, code);
    assert.deepEqual([replayed.status, replayed.body.code], [401, 'auth.challenge_expired']);
    const second = await start({ username: 'ivan', password: 'ivan-pw', method: 'code' });
    const reused = await complete(second.body.id, code);
    assert.deepEqual([reused.status, reused.body.code], [401, 'auth.invalid_code']);
    assert.equal((await poll(first.body.id)).body.status, 'approved', 'the first stays approved');
    const fresh = await complete(second.body.id, await codeOf('ivan', 'otplib'));
    assert.equal(fresh.body.status, 'approved');
  });

  it('a client that hangs up ends its wait', async () => {
    await phoneOf('bob');
    const body = JSON.stringify({ username: 'bob', method: 'push', wait: 30 });
    const socket = connect(site.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /sdk/v1/authentications HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${tokens.authn}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await held();
    socket.destroy();
    const deadline = Date.now() + 2_000;
    while (site.core.pushHub.size().requests > 0) {
      assert.ok(Date.now() < deadline, 'the wait outlived its client');
      await new Promise((r) => setTimeout(r, 10));
    }
    // The push itself is still open for the phone; answering it leaves nothing pending for later tests.
    await answerOnPhone('bob', 'deny');
  });
});
