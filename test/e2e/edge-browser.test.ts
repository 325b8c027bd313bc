// The DMZ split end to end: two `mfa-gateway` processes on loopback. The internal node has the
// directory (a real slapd) and the store, and serves the SDK over mutual TLS; the edge node has
// neither, only the SDK's URL, the internal CA and its client certificate. Through the edge alone,
// in Chromium: carol enrols TOTP in the portal (code from oathtool), signs in to the protected
// intranet app with a code, activates the web authenticator on a phone, and signs in again by
// approving the push. The audit log, read from the internal node, shows the edge did it.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Agent, request } from 'undici';
import { type IntranetApp, startIntranetApp } from '../../demo/intranet-app.ts';
import { launchBrowser, newContext, type PageProblems, recordProblems } from '../helpers/browser.ts';
import { CLI, freePort, runCli, TEST_KEY } from '../helpers/cli.ts';
import { oathtoolCode } from '../helpers/gateway-site.ts';
import { createTestCa } from '../helpers/pki.ts';
import { type SlapdHandle, startSlapd, TEST_USERS } from '../helpers/slapd.ts';

const TEST_TIMEOUT = 90_000;
const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');
const EDGE_KEY = 'ZWRnZS1zZXNzaW9uLWtleS1mb3ItdGVzdHMtMzJieXQ=';
const PHONE_DEVICE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** The portal settings both nodes share: the internal node enforces them, the edge renders them. */
const PORTAL = `portal:
  rateLimitPerMinute: 1000
  methods: [totp, push]
  allowSelectMethod: false
  enrollment: { promptPhone: false }
  securityQuestions: { enabled: false }
  mobileApp: { allow: true, maxDevices: 2 }`;

let dir: string;
let slapd: SlapdHandle;
let app: IntranetApp;
let browser: Browser;
let internalUrl: string;
let edgeUrl: string;
let internalAgent: Agent;
let auditorToken = '';
const children: ChildProcess[] = [];
const logs = new Map<string, string[]>();
const contexts: BrowserContext[] = [];
const problems: PageProblems[] = [];
/** carol's desktop browser: signed in to the portal by the first test. */
let desktop: Page;

/** carol's seed, read from the enrollment page, and the last time step she used. */
const carol = { secret: '', lastStep: 0 };

function carolCode(): string {
  const now = Math.floor(Date.now() / 30_000);
  const step = Math.max(now, carol.lastStep + 1);
  assert.ok(step <= now + 1, 'carol has no unused code left in the window');
  carol.lastStep = step;
  return oathtoolCode(carol.secret, step);
}

/** `mfa-gateway start` in its own process; its output is kept for the failure message. */
function startNode(name: string, config: string): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'start', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  logs.set(name, lines);
  child.stdout?.on('data', (chunk) => lines.push(String(chunk)));
  child.stderr?.on('data', (chunk) => lines.push(String(chunk)));
  children.push(child);
  return child;
}

/** Waits (bounded) until a node's /_mfa/health answers 200. */
async function healthy(name: string, url: string, dispatcher?: Agent): Promise<void> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    try {
      const answer = await request(`${url}/_mfa/health`, dispatcher ? { dispatcher } : {});
      await answer.body.dump();
      if (answer.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} did not become healthy:\n${(logs.get(name) ?? []).join('')}`);
}

async function fresh(options: Parameters<typeof newContext>[1] = {}): Promise<Page> {
  const context = await newContext(browser, options);
  contexts.push(context);
  problems.push(await recordProblems(context));
  return context.newPage();
}

const shoot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const pathOf = (page: Page) => new URL(page.url()).pathname;

/** The gateway's sign-in page on the edge, up to the second factor. */
async function gatewayPassword(page: Page): Promise<void> {
  await page.goto(`${edgeUrl}/`);
  assert.equal(pathOf(page), '/_mfa/login');
  await page.getByLabel('User name').fill('carol');
  await page.getByLabel('Password').fill(TEST_USERS.carol.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dir = mkdtempSync(path.join(tmpdir(), 'mfa-edge-'));
  slapd = await startSlapd();
  app = await startIntranetApp({ port: 0 });
  const ca = await createTestCa(dir);
  const server = await ca.server();
  const edgeCertificate = await ca.client('edge-1', '/CN=edge-1/O=Example');
  const [internalPort, edgePort] = [await freePort(), await freePort()];
  internalUrl = `https://127.0.0.1:${internalPort}`;
  edgeUrl = `http://127.0.0.1:${edgePort}`;

  const internalConfig = path.join(dir, 'internal.yaml');
  writeFileSync(
    internalConfig,
    `server:
  listen:
    - host: 127.0.0.1
      port: ${internalPort}
      tls: { certFile: ${server.certFile}, keyFile: ${server.keyFile}, clientCaFile: ${ca.caFile} }
  publicUrl: ${internalUrl}
store:
  sqlite: { path: ${path.join(dir, 'internal.db')} }
  encryptionKey: ${TEST_KEY}
directory:
  type: ldap
  ldap:
    servers: ["${slapd.url}"]
    bindDn: "${slapd.serviceDn}"
    bindPassword: "${slapd.servicePassword}"
    baseDn: "ou=Users,${slapd.baseDn}"
    usernameAttribute: sAMAccountName
    userFilter: (objectClass=inetOrgPerson)
auth:
  primaryMinDurationMs: 0
${PORTAL}
log:
  level: warn
`,
  );
  // The users come from the directory; the edge's account is matched by its certificate's subject.
  const imported = await runCli(['import', '--config', internalConfig]);
  assert.equal(imported.code, 0, imported.stderr);
  const account = await runCli([
    'accounts',
    'create',
    'edge-1',
    '--scopes',
    'edge',
    '--cert-subject',
    'CN=edge-1,O=Example',
    '--config',
    internalConfig,
  ]);
  assert.equal(account.code, 0, account.stderr);
  const auditor = await runCli([
    'accounts',
    'create',
    'auditor',
    '--scopes',
    'admin',
    '--config',
    internalConfig,
  ]);
  assert.equal(auditor.code, 0, auditor.stderr);
  auditorToken = /mfa_sa_[A-Za-z0-9_-]+/.exec(auditor.stdout)?.[0] ?? '';
  assert.ok(auditorToken, auditor.stdout);
  startNode('internal', internalConfig);
  internalAgent = new Agent({ connect: { ca: readFileSync(ca.caFile) } });
  await healthy('internal', internalUrl, internalAgent);

  const edgeConfig = path.join(dir, 'edge.yaml');
  writeFileSync(
    edgeConfig,
    `role: edge
edge:
  sdkUrl: ${internalUrl}/sdk/v1
  caFile: ${ca.caFile}
  clientCertFile: ${edgeCertificate.certFile}
  clientKeyFile: ${edgeCertificate.keyFile}
  sessionKey: ${EDGE_KEY}
server:
  listen: [{ host: 127.0.0.1, port: ${edgePort} }]
  publicUrl: ${edgeUrl}
${PORTAL}
gateway:
  apps:
    - name: intranet
      match: { pathPrefix: / }
      upstream: '${app.url}'
      policy: two_factor
log:
  level: warn
`,
  );
  startNode('edge', edgeConfig);
  await healthy('edge', edgeUrl);
  browser = await launchBrowser();
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
        }),
    ),
  );
  await app?.close();
  await slapd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an edge node in the DMZ, through the internal node’s SDK', { timeout: TEST_TIMEOUT * 4 }, () => {
  test('carol enrols TOTP in the portal through the edge, and signs in to the intranet app with a code', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const page = await fresh({ viewport: { width: 1280, height: 860 } });
    desktop = page;
    await page.goto(`${edgeUrl}/enroll`);
    await page.getByLabel('User name').fill('carol');
    await page.getByLabel('Password').fill(TEST_USERS.carol.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/enroll/authenticator');
    carol.secret = ((await page.locator('#totp-secret').textContent()) ?? '').trim();
    assert.match(carol.secret, /^[A-Z2-7]{32}$/);
    await shoot(page, 'edge-enroll-authenticator');
    await page.getByLabel('Code from the app').fill(carolCode());
    await page.getByRole('button', { name: 'Verify and save' }).click();
    await page.waitForURL((url) => url.pathname === '/enroll' && url.searchParams.get('done') === 'setup');
    assert.equal(await page.locator('.device').count(), 1);

    await gatewayPassword(page);
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    await page.getByLabel('Verification code').fill(carolCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    assert.match(await page.content(), /Intranet/i);
    assert.match(await page.content(), /carol/i, 'the app sees the user the edge established');
    await shoot(page, 'edge-app-landed');
  });

  test('carol activates the web authenticator through the edge and approves a push to sign in', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    assert.ok(carol.secret, 'runs after the enrollment test');
    // Still signed in to the portal (through the edge) from the enrollment.
    await desktop.goto(`${edgeUrl}/enroll`);
    assert.equal(pathOf(desktop), '/enroll');
    await desktop.locator('#activate-mobile').click();
    await desktop.locator('#activation-url').waitFor();
    const link = (await desktop.locator('#activation-url').getAttribute('href')) ?? '';
    assert.ok(link.startsWith(`${edgeUrl}/mobile/app/activate?c=`), `the link points at the edge: ${link}`);

    const phone = await fresh(PHONE_DEVICE);
    await phone.goto(link);
    await phone.locator('#activate-button').click();
    await phone.locator('#activated').waitFor();
    assert.match((await phone.locator('#activated').textContent()) ?? '', /activated for carol/);

    const page = await fresh({ viewport: { width: 1280, height: 860 } });
    await gatewayPassword(page);
    await page.locator('#push-number').waitFor();
    const number = Number(await page.locator('#push-number').textContent());
    await shoot(page, 'edge-push-waiting');
    const card = phone.locator('.request').first();
    await card.waitFor();
    await card.locator(`button.choice[data-number="${number}"]`).click();
    await phone.locator('#request-result').filter({ hasText: 'Approved' }).waitFor();
    await page.waitForURL((url) => url.pathname === '/');
    assert.match(await page.content(), /Intranet/i);
    await shoot(page, 'edge-push-landed');
  });

  test('the internal node’s audit log shows the edge’s calls and carol’s sign-ins from the browser’s address', async () => {
    const answer = await request(`${internalUrl}/sdk/v1/audit?user=carol&limit=200`, {
      dispatcher: internalAgent,
      headers: { authorization: `Bearer ${auditorToken}` },
    });
    assert.equal(answer.statusCode, 200);
    const { events } = (await answer.body.json()) as {
      events: Array<{
        type: string;
        outcome: string;
        channel: string;
        clientAddress: string;
        actor: string;
        reason: string;
      }>;
    };
    const signIns = events.filter((e) => e.type === 'auth.second_factor' && e.outcome === 'success');
    assert.ok(signIns.length >= 2, JSON.stringify(events.map((e) => e.type)));
    for (const e of signIns) assert.equal(e.clientAddress, '127.0.0.1');
    const all = await request(`${internalUrl}/sdk/v1/audit?type=sdk.call&limit=500`, {
      dispatcher: internalAgent,
      headers: { authorization: `Bearer ${auditorToken}` },
    });
    const calls = ((await all.body.json()) as { events: Array<{ actor: string; reason: string }> }).events;
    assert.ok(
      calls.some((e) => e.actor === 'sdk:edge-1' && e.reason === 'edgeCall:authenticator.completeWithPush'),
      'the push sign-in went through the edge account',
    );
  });

  test('no page logged a script error or a CSP violation', () => {
    const seen = problems.flatMap((p) => p.all()).filter((line) => !/status of 4\d\d/.test(line));
    assert.deepEqual(seen, []);
  });
});
