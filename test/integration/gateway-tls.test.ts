// HTTPS on the listener (certificate and key files), the plain listener that only redirects to
// it, and the cookie rules that hold only on HTTPS: the __Host- prefix and Secure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as plainRequest } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../helpers/cli.ts';
import { type GatewaySite, startGatewaySite } from '../helpers/gateway-site.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

let site: GatewaySite;
let upstream: Upstream;
let certDir: string;
let ca: Buffer;
let redirectPort: number;

function httpsGet(path: string, headers: Record<string, string> = {}) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const req = request(`${site.url}${path}`, { ca, headers, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'mfa-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(certDir, 'key.pem'),
      '-out',
      join(certDir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(join(certDir, 'cert.pem'));
  upstream = await startUpstream();
  redirectPort = await freePort();
  site = await startGatewaySite({
    publicScheme: 'https',
    listen: (port) =>
      `[{ host: 127.0.0.1, port: ${port}, tls: { certFile: ${join(certDir, 'cert.pem')}, keyFile: ${join(certDir, 'key.pem')} } }, { host: 127.0.0.1, port: ${redirectPort}, redirectToHttpsPort: ${port} }]`,
    apps: `    - { name: app, match: { pathPrefix: / }, upstream: '${upstream.url}', policy: two_factor }`,
  });
});

after(async () => {
  await site.stop();
  await upstream.close();
  rmSync(certDir, { recursive: true, force: true });
});

test('the listener serves HTTPS and sends unauthenticated users to sign in', async () => {
  const response = await httpsGet('/private');
  assert.equal(response.status, 302);
  assert.equal(response.headers.location, '/_mfa/login?rd=%2Fprivate');
  assert.equal(upstream.requests.length, 0);
});

test('on HTTPS the sign-in cookies carry the __Host- prefix and Secure', async () => {
  const page = await httpsGet('/_mfa/login');
  const cookies = page.headers['set-cookie'] as string[];
  const csrf = cookies.find((c) => c.startsWith('__Host-mfa_csrf='));
  assert.ok(csrf, 'the CSRF cookie is a __Host- cookie');
  assert.match(csrf, /; Secure/);
  assert.match(csrf, /Path=\//);
});

test('the plain listener only redirects to HTTPS, keeping host and path', async () => {
  const response = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    const req = plainRequest(`http://127.0.0.1:${redirectPort}/some/path?q=1`, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(response.status, 301);
  assert.equal(response.location, `https://127.0.0.1:${site.port}/some/path?q=1`);
  assert.equal(upstream.requests.length, 0);
});
