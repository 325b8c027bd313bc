// SDK service accounts proven by a client certificate on a mutual-TLS listener: matched by
// fingerprint or by subject, and only when the listener's CA signed the certificate.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { type GatewaySite, startGatewaySite } from '../helpers/gateway-site.ts';
import { createTestCa, fingerprintOf, type IssuedCertificate } from '../helpers/pki.ts';

describe('SDK over mutual TLS', () => {
  let site: GatewaySite;
  let dir: string;
  let caFile: string;
  let byFingerprint: IssuedCertificate;
  let bySubject: IssuedCertificate;
  let foreign: IssuedCertificate;
  let token: string;

  async function account(name: string, ...extra: string[]): Promise<string> {
    const result = await runCli([
      'accounts',
      'create',
      name,
      '--scopes',
      'users:read',
      ...extra,
      '--config',
      join(site.dir, 'config.yaml'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    return /token: (\S+)/.exec(result.stdout)?.[1] ?? '';
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mfa-mtls-'));
    const ca = await createTestCa(dir);
    caFile = ca.caFile;
    const server = await ca.server();
    byFingerprint = await ca.client('edge-1', '/CN=edge-1/O=Example');
    bySubject = await ca.client('edge-2', '/CN=edge-2/O=Example');
    const other = await createTestCa(mkdtempSync(join(dir, 'other-')));
    foreign = await other.client('impostor', '/CN=edge-2/O=Example');
    site = await startGatewaySite({
      apps: "    - { name: intranet, match: { pathPrefix: / }, upstream: 'http://127.0.0.1:9', policy: two_factor }",
      listen: (port) =>
        `[{ host: 127.0.0.1, port: ${port}, tls: { certFile: '${server.certFile}', keyFile: '${server.keyFile}', clientCaFile: '${caFile}' } }]`,
      publicScheme: 'https',
    });
    await account('edge-by-fingerprint', '--cert-fingerprint', await fingerprintOf(byFingerprint.certFile));
    await account('edge-by-subject', '--cert-subject', 'CN=edge-2,O=Example');
    token = await account('with-token');
  });
  after(async () => {
    await site.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function ping(options: {
    cert?: IssuedCertificate;
    authorization?: string;
  }): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${site.url}/sdk/v1/ping`,
        {
          ca: readFileSync(caFile),
          ...(options.cert
            ? { cert: readFileSync(options.cert.certFile), key: readFileSync(options.cert.keyFile) }
            : {}),
          headers: options.authorization ? { authorization: options.authorization } : {},
          agent: false,
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString('utf8');
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('a client certificate matched by its fingerprint authenticates', async () => {
    const answer = await ping({ cert: byFingerprint });
    assert.equal(answer.status, 200, answer.body);
    assert.equal(JSON.parse(answer.body).account, 'edge-by-fingerprint');
  });

  it('a client certificate matched by its subject authenticates', async () => {
    const answer = await ping({ cert: bySubject });
    assert.equal(answer.status, 200, answer.body);
    assert.equal(JSON.parse(answer.body).account, 'edge-by-subject');
  });

  it("a certificate with an account's subject but from another CA authenticates nobody", async () => {
    const answer = await ping({ cert: foreign });
    assert.equal(answer.status, 401, answer.body);
  });

  it('callers without a certificate still use tokens on the same listener', async () => {
    assert.equal((await ping({})).status, 401);
    assert.equal((await ping({ authorization: `Bearer ${token}` })).status, 200);
  });
});
