// The SDK operation edge nodes call (edgeCall), against a running internal node: success, bad
// input, scopes and credentials like every operation; then the edge's own client and remote core
// over it (catalogue errors arrive as themselves, the user's address is the one the core audits),
// and the TLS pin: an edge trusts only the CA it was given.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMfaError } from '../../src/core/errors.ts';
import type { RequestContext } from '../../src/core/ports.ts';
import { createRemoteCore } from '../../src/edge/remote-core.ts';
import { createSdkClient } from '../../src/edge/sdk-client.ts';
import { runCli } from '../helpers/cli.ts';
import { type GatewaySite, startGatewaySite } from '../helpers/gateway-site.ts';
import { createTestCa } from '../helpers/pki.ts';

const EDGE_USER: RequestContext = { channel: 'portal', clientAddress: '203.0.113.7', application: 'portal' };

describe('the edge operation of the SDK', () => {
  let site: GatewaySite;
  const tokens = { edge: '', edgeAdmin: '', reader: '' };

  async function account(name: string, scopes: string): Promise<string> {
    const result = await runCli([
      'accounts',
      'create',
      name,
      '--scopes',
      scopes,
      '--config',
      join(site.dir, 'config.yaml'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    return /token: (\S+)/.exec(result.stdout)?.[1] ?? '';
  }

  async function edgeCall(body: unknown, token?: string) {
    const response = await fetch(`${site.url}/sdk/v1/edge/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const remote = (token: string) =>
    createSdkClient({ sdkUrl: `${site.url}/sdk/v1`, token, sessionKey: 'unused', timeoutSeconds: 5 });

  before(async () => {
    site = await startGatewaySite({
      apps: "    - { name: intranet, match: { pathPrefix: / }, upstream: 'http://127.0.0.1:9', policy: two_factor }",
    });
    tokens.edge = await account('edge-1', 'edge');
    tokens.edgeAdmin = await account('edge-admin', 'edge,admin');
    tokens.reader = await account('reader', 'users:read');
  });
  after(() => site.stop());

  it('success: a listed core call runs on the internal node and its result comes back', async () => {
    const { status, body } = await edgeCall({ method: 'enrollment.overview', args: ['alice'] }, tokens.edge);
    assert.equal(status, 200);
    const result = body.result as { user: { username: string }; factors: unknown[] };
    assert.equal(result.user.username, 'alice');
    assert.equal(result.factors.length, 1);
  });

  it('bad input names the field: a method outside the edge surface, arguments that are not a list', async () => {
    const outside = await edgeCall({ method: 'accounts.create', args: [] }, tokens.edge);
    assert.equal(outside.status, 400);
    assert.equal(outside.body.field, 'body.method');
    const notList = await edgeCall({ method: 'enrollment.overview', args: { user: 'alice' } }, tokens.edge);
    assert.equal(notList.status, 400);
    assert.equal(notList.body.field, 'body.args');
    const longWait = await edgeCall({ method: 'push.waitForAnswer', args: ['x', 3_600_000] }, tokens.edge);
    assert.equal(longWait.status, 400);
    assert.equal(longWait.body.field, 'body.args.1');
  });

  it('missing scope: an account without edge gets 403, and administration needs admin as well', async () => {
    const reader = await edgeCall({ method: 'enrollment.overview', args: ['alice'] }, tokens.reader);
    assert.equal(reader.status, 403);
    assert.equal(reader.body.code, 'auth.forbidden');
    const admin = { actor: 'edge', channel: 'portal', clientAddress: '203.0.113.7' };
    const disable = await edgeCall({ method: 'userAdmin.disable', args: ['bob', admin] }, tokens.edge);
    assert.equal(disable.status, 403);
    const bob = await edgeCall({ method: 'enrollment.overview', args: ['bob'] }, tokens.edge);
    assert.equal(
      (bob.body.result as { user: { status: string } }).user.status,
      'enabled',
      'bob was not disabled',
    );
    const search = await edgeCall(
      { method: 'userAdmin.search', args: [{ search: 'bob' }] },
      tokens.edgeAdmin,
    );
    assert.equal(search.status, 200);
  });

  it('no credentials: 401, the same as a wrong token', async () => {
    const none = await edgeCall({ method: 'enrollment.overview', args: ['alice'] });
    const wrong = await edgeCall({ method: 'enrollment.overview', args: ['alice'] }, 'mfa_sa_wrong');
    assert.equal(none.status, 401);
    assert.deepEqual(wrong, none);
  });

  it('through the remote core, a wrong password is the same catalogue error as on the internal node', async () => {
    const client = remote(tokens.edge);
    const core = createRemoteCore(client);
    try {
      await assert.rejects(core.authenticator.startLogin('alice', 'wrong', EDGE_USER), (error) =>
        isMfaError(error, 'auth.invalid_credentials'),
      );
      await assert.rejects(core.enrollment.overview('nobody'), (error) =>
        isMfaError(error, 'user.not_found'),
      );
    } finally {
      await client.close();
    }
  });

  it('through the remote core, a sign-in completes with a code and is audited with the user’s address', async () => {
    const client = remote(tokens.edge);
    const core = createRemoteCore(client);
    try {
      const started = await core.authenticator.startLogin('alice', 'alice-pw', EDGE_USER, {
        need: 2,
        ask: 'page',
      });
      assert.equal(started.kind, 'second_factor');
      if (started.kind !== 'second_factor') return;
      const done = await core.authenticator.completeLogin(
        started.challenge.id,
        site.code('alice'),
        EDGE_USER,
      );
      assert.equal(done.username, 'alice');
      const events = await fetch(`${site.url}/sdk/v1/audit?user=alice&type=auth.second_factor`, {
        headers: { authorization: `Bearer ${tokens.edgeAdmin}` },
      });
      const [latest] = (
        (await events.json()) as { events: Array<{ clientAddress: string; outcome: string }> }
      ).events;
      assert.equal(latest?.outcome, 'success');
      assert.equal(latest?.clientAddress, '203.0.113.7');
    } finally {
      await client.close();
    }
  });

  it('an audit event an edge writes is marked with the edge’s account', async () => {
    const client = remote(tokens.edge);
    try {
      await createRemoteCore(client).audit.record({
        at: Date.now(),
        type: 'gateway.test_event',
        outcome: 'success',
        channel: 'web',
        username: 'alice',
        clientAddress: '203.0.113.7',
        reason: null,
        actor: null,
        application: 'intranet',
        details: null,
      });
      const events = await fetch(`${site.url}/sdk/v1/audit?type=gateway.test_event`, {
        headers: { authorization: `Bearer ${tokens.edgeAdmin}` },
      });
      const [event] = ((await events.json()) as { events: Array<{ details: { edge?: string } }> }).events;
      assert.equal(event?.details.edge, 'edge-1');
    } finally {
      await client.close();
    }
  });
});

describe('the edge’s TLS pin', () => {
  it('an internal node whose certificate another CA signed is not trusted, whatever the system trusts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfa-pin-'));
    const server = createServer({}, (_request, response) => response.end('{"status":"ok"}'));
    try {
      const real = await createTestCa(join(dir));
      const pinned = await createTestCa(mkdtempSync(join(dir, 'pinned-')));
      const certificate = await real.server();
      server.setSecureContext({
        cert: readFileSync(certificate.certFile),
        key: readFileSync(certificate.keyFile),
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      const base = {
        sdkUrl: `https://127.0.0.1:${port}/sdk/v1`,
        token: 't',
        sessionKey: 'unused',
        timeoutSeconds: 5,
      };

      const trusting = createSdkClient({ ...base, caFile: real.caFile });
      assert.equal(await trusting.health(), 'ok', 'the right CA connects');
      await trusting.close();

      const pinnedElsewhere = createSdkClient({ ...base, caFile: pinned.caFile });
      await assert.rejects(pinnedElsewhere.call('enrollment.overview', ['alice']), (error) =>
        isMfaError(error, 'store.unavailable'),
      );
      await pinnedElsewhere.close();
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
