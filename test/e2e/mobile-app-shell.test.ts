// The web authenticator at /mobile/app: the routes and headers of its files (through inject), and
// the app itself in Debian's Chromium against a stand-in of the mobile API that checks every
// signature with the public key the app registered: activation, the offline code, answering a
// request by its number, the fraud confirm step, and removal.
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { compactVerify, importJWK, type JWK } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { MOBILE_APP_DIR, registerMobileAppRoutes } from '../../src/mobile/app-routes.ts';
import { launchBrowser, newContext, type PageProblems, recordProblems, WAIT_MS } from '../helpers/browser.ts';

const ASSETS = readdirSync(MOBILE_APP_DIR).filter((name) => name !== 'app.html');

function bareApp(): FastifyInstance {
  const app = Fastify();
  registerMobileAppRoutes(app);
  return app;
}

describe('the app shell routes', () => {
  const app = bareApp();
  after(() => app.close());

  for (const url of ['/mobile/app', '/mobile/app/', '/mobile/app/activate?c=ABCD-EFGH-JKLM-NPQR'])
    test(`serves the shell at ${url} with a CSP that allows no inline code`, async () => {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 200);
      assert.match(response.headers['content-type'] as string, /^text\/html/);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.equal(response.headers['x-frame-options'], 'DENY');
      const csp = response.headers['content-security-policy'] as string;
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      for (const directive of [
        "script-src 'self'",
        "style-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "frame-ancestors 'none'",
      ])
        assert.ok(csp.includes(directive), `${directive} in ${csp}`);
      assert.match(response.body, /<link rel="manifest" href="\/mobile\/app\/manifest.webmanifest">/);
      assert.doesNotMatch(
        response.body,
        /<script>|<style>| on[a-z]+="/,
        'no inline script, style or handler',
      );
    });

  test('serves the service worker for the /mobile/app/ scope, revalidated on every load', async () => {
    const response = await app.inject({ url: '/mobile/app/sw.js' });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /^text\/javascript/);
    assert.equal(response.headers['service-worker-allowed'], '/mobile/app/');
    assert.equal(response.headers['cache-control'], 'no-cache');
  });

  test('serves every file of portal/mobile with no-cache and nosniff', async () => {
    for (const name of ASSETS) {
      const response = await app.inject({ url: `/mobile/app/${name}` });
      assert.equal(response.statusCode, 200, name);
      assert.equal(response.headers['cache-control'], 'no-cache', name);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', name);
    }
  });

  test('the service worker keeps every file of the app for offline use', () => {
    const sw = readFileSync(path.join(MOBILE_APP_DIR, 'sw.js'), 'utf8');
    const shell = new Set([...sw.matchAll(/'\/mobile\/app\/([^']*)'/g)].map((match) => match[1]));
    for (const name of ASSETS.filter((n) => n !== 'sw.js')) assert.ok(shell.has(name), `${name} in SHELL`);
  });

  test('does not serve unknown names or anything outside portal/mobile', async () => {
    for (const url of [
      '/mobile/app/nope.js',
      '/mobile/app/app.html',
      '/mobile/app/..%2F..%2Fpackage.json',
      '/mobile/app/%2e%2e%2fstatic%2fstyle.css',
    ]) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 404, url);
      assert.deepEqual(response.json(), { code: 'not_found', message: 'Not found.' });
    }
  });

  test('the manifest is JSON that makes the app installable', async () => {
    const response = await app.inject({ url: '/mobile/app/manifest.webmanifest' });
    assert.equal(response.headers['content-type'], 'application/manifest+json');
    const manifest = response.json();
    assert.equal(typeof manifest.name, 'string');
    assert.equal(manifest.start_url, '/mobile/app/');
    assert.equal(manifest.scope, '/mobile/app/');
    assert.ok(manifest.icons.length > 0);
    for (const icon of manifest.icons) {
      const file = await app.inject({ url: icon.src });
      assert.equal(file.statusCode, 200, icon.src);
    }
  });
});

// ---------------------------------------------------------------- in the browser, against a stand-in API

const SECRET = 'JBSWY3DPEHPK3PXP';
const GOOD_CODE = 'ABCD-EFGH-JKLM-NPQR';
const TEST_TIMEOUT = 20_000;
const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');

interface Pending {
  id: string;
  application: string;
  clientAddress: string;
  createdAt: number;
  expiresAt: number;
  choices: number[];
  pinRequired: boolean;
  nonce: string;
}

/** What the stand-in saw, for the assertions. */
const api = {
  publicKey: undefined as JWK | undefined,
  activationBodies: [] as Record<string, unknown>[],
  deviceCalls: [] as { htm: unknown; htu: unknown; typ: unknown }[],
  answers: [] as Record<string, unknown>[],
  queue: [] as Pending[],
  removed: false,
};

function rfc6238(secret: string, step: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secret) bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => Number.parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = (mac.at(-1) ?? 0) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function verified(jws: string, typ: string): Promise<Record<string, unknown>> {
  assert.ok(api.publicKey, 'activated first');
  const { payload, protectedHeader } = await compactVerify(jws, await importJWK(api.publicKey, 'ES256'));
  assert.equal(protectedHeader.typ, typ);
  assert.equal(protectedHeader.kid, 'device-1');
  return JSON.parse(new TextDecoder().decode(payload));
}

async function deviceAuth(header: string | undefined) {
  assert.match(header ?? '', /^Device /);
  const claims = await verified((header ?? '').slice('Device '.length), 'mfa-device+jwt');
  api.deviceCalls.push({ htm: claims.htm, htu: claims.htu, typ: 'mfa-device+jwt' });
  return claims;
}

function standInApi(app: FastifyInstance): void {
  app.post('/mobile/v1/activations', async (request, reply) => {
    const body = request.body as Record<string, unknown>;
    api.activationBodies.push(body);
    if (body.code !== GOOD_CODE)
      return reply
        .status(400)
        .send({ code: 'mobile.activation_invalid', message: 'This activation code is not valid.' });
    api.publicKey = body.publicKey as JWK;
    api.removed = false;
    return reply.status(201).send({
      deviceId: 'device-1',
      username: 'alice',
      issuer: 'Example Corp',
      totp: { secret: SECRET, algorithm: 'SHA1', digits: 6, period: 30 },
      pinRequired: false,
    });
  });
  app.get('/mobile/v1/requests', async (request, reply) => {
    if (api.removed) return reply.status(401).send({ code: 'auth.required', message: 'Sign in.' });
    await deviceAuth(request.headers.authorization);
    // A short hold instead of 25 s keeps the test quick; the app must simply call again.
    for (let waited = 0; api.queue.length === 0 && waited < 1_000; waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));
    return { requests: api.queue.splice(0) };
  });
  app.post('/mobile/v1/requests/:id/answer', async (request) => {
    const { answer } = request.body as { answer: string };
    const claims = await verified(answer, 'mfa-answer+jwt');
    api.answers.push(claims);
    if (claims.decision === 'fraud') return { state: 'fraud' };
    if (claims.decision === 'deny') return { state: 'denied' };
    return claims.number === 47 ? { state: 'approved' } : { state: 'denied', reason: 'wrong_number' };
  });
  const vapid = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const raw = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(vapid.x ?? '', 'base64url'),
    Buffer.from(vapid.y ?? '', 'base64url'),
  ]);
  app.get('/mobile/v1/push/vapid-public-key', async () => ({ publicKey: raw.toString('base64url') }));
  app.delete('/mobile/v1/devices/self', async (request, reply) => {
    await deviceAuth(request.headers.authorization);
    api.removed = true;
    return reply.status(204).send();
  });
}

function pending(id: string, nonce: string): Pending {
  const now = Date.now();
  return {
    id,
    application: 'Intranet',
    clientAddress: '203.0.113.7',
    createdAt: now,
    expiresAt: now + 60_000,
    choices: [12, 47, 85],
    pinRequired: false,
    nonce,
  };
}

describe('the app in a browser', { timeout: 120_000 }, () => {
  let server: FastifyInstance;
  let origin = '';
  let browser: Browser;
  let context: BrowserContext;
  let problems: PageProblems;
  let page: Page;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = bareApp();
    standInApi(server);
    origin = await server.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
    // One context for the whole story: the account lives in its IndexedDB from test to test.
    context = await newContext(browser, { viewport: { width: 390, height: 844 } });
    problems = await recordProblems(context);
    page = await context.newPage();
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close();
    await server?.close();
  });

  test('with no account it shows the empty state, registers its service worker, and has no errors', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    await page.goto(`${origin}/mobile/app`);
    await page.locator('#accounts-empty').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'mobile-app-empty-phone.png'), fullPage: true });
    assert.match((await page.locator('#accounts-empty').textContent()) ?? '', /No accounts yet/);
    assert.equal(new URL(page.url()).pathname, '/mobile/app/', 'moved into the service worker scope');
    // Browser-side code as text: the project's TypeScript has no DOM types.
    await page.waitForFunction(
      `navigator.serviceWorker.getRegistration('/mobile/app/').then((r) => r?.active?.state === 'activated')`,
    );
    const scope = await page.evaluate(
      `navigator.serviceWorker.getRegistration('/mobile/app/').then((r) => r.scope)`,
    );
    assert.equal(scope, `${origin}/mobile/app/`);
    assert.deepEqual(problems.all(), []);
  });

  test('a wrong code shows the server message; the right one stores a key that never left the phone', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    await page.goto(`${origin}/mobile/app/activate?c=abcd efgh-jkLMNPQR`);
    assert.equal(await page.locator('#activate-code').inputValue(), GOOD_CODE, 'the code is normalised');
    assert.notEqual(await page.locator('#device-name').inputValue(), '');
    await page.locator('#activate-code').fill('WXYZ-WXYZ-WXYZ-WXYZ');
    await page.locator('#activate-button').click();
    await page.locator('#activate-error').getByText('This activation code is not valid.').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'mobile-app-activate-phone.png'), fullPage: true });
    await page.locator('#activate-code').fill(GOOD_CODE);
    await page.locator('#activate-button').click();
    await page.locator('#activated').waitFor();
    await page.locator('#enable-notifications').waitFor();
    assert.match((await page.locator('#activated').textContent()) ?? '', /activated.*alice/);
    assert.equal(new URL(page.url()).pathname, '/mobile/app/', 'a reload does not post the code again');

    const sent = api.activationBodies.at(-1) ?? {};
    assert.deepEqual(Object.keys(sent).sort(), ['code', 'deviceName', 'publicKey']);
    assert.deepEqual(Object.keys(sent.publicKey as object).sort(), ['crv', 'kty', 'x', 'y']);
    assert.ok(!('d' in (sent.publicKey as object)), 'no private member');
  });

  test('shows the offline code of RFC 6238 for the current time step', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const code = page.locator('.account .offline-code');
    await code.filter({ hasText: /^\d{6}$/ }).waitFor();
    const step = Math.floor(Date.now() / 30_000);
    const shown = (await code.textContent()) ?? '';
    assert.ok([rfc6238(SECRET, step), rfc6238(SECRET, step - 1)].includes(shown), `${shown} at step ${step}`);
    assert.match((await page.locator('.account .account-name').textContent()) ?? '', /alice @ Example Corp/);
  });

  test('keeps no TOTP secret and only non-extractable keys in IndexedDB', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const stored = await page.evaluate(`new Promise((resolve, reject) => {
      const open = indexedDB.open('mfa-authenticator');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const all = open.result.transaction('accounts').objectStore('accounts').getAll();
        all.onsuccess = () => resolve(all.result.map((a) => ({
          fields: Object.keys(a).sort(),
          privateExtractable: a.privateKey.extractable,
          totpExtractable: a.totpKey.extractable,
        })));
      };
    })`);
    assert.deepEqual(stored, [
      {
        fields: [
          'algorithm',
          'createdAt',
          'deviceId',
          'digits',
          'issuer',
          'origin',
          'period',
          'privateKey',
          'totpKey',
          'username',
        ],
        privateExtractable: false,
        totpExtractable: false,
      },
    ]);
  });

  test('polls with a fresh device token per call, and approves by the number tapped', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    api.queue.push(pending('req-1', 'nonce-1'));
    const card = page.locator('.request[data-request-id="req-1"]');
    await card.waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'mobile-app-request-phone.png'), fullPage: true });
    assert.equal(await card.locator('.request-app').textContent(), 'Intranet');
    assert.equal(await card.locator('.request-client').textContent(), '203.0.113.7');
    assert.equal(await card.locator('input.pin').count(), 0, 'no PIN asked when not required');
    await card.locator('button.choice[data-number="47"]').click();
    await page.locator('#request-result').getByText('Approved').waitFor();
    await card.waitFor({ state: 'detached' });

    assert.deepEqual(api.answers.at(-1), {
      ...api.answers.at(-1),
      rid: 'req-1',
      decision: 'approve',
      number: 47,
    });
    assert.equal(api.answers.at(-1)?.nonce, 'nonce-1');
    const polls = api.deviceCalls.filter((call) => call.htu === '/mobile/v1/requests');
    assert.ok(polls.length > 0 && polls.every((call) => call.htm === 'GET'));
  });

  test('reports fraud only after the confirm step', { timeout: TEST_TIMEOUT }, async () => {
    api.queue.push(pending('req-2', 'nonce-2'));
    const card = page.locator('.request[data-request-id="req-2"]');
    await card.locator('button.fraud').click();
    const before = api.answers.length;
    await card.locator('button.fraud-confirm').waitFor();
    assert.equal(api.answers.length, before, 'the first tap sends nothing');
    await card.locator('button.fraud-confirm').click();
    await page.locator('#request-result').getByText('Reported as fraud').waitFor();
    assert.equal(api.answers.at(-1)?.decision, 'fraud');
    assert.equal(api.answers.at(-1)?.number, null);
  });

  test('offline, the app still opens from the service worker and shows the code', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    await context.setOffline(true);
    try {
      await page.reload();
      await page
        .locator('.account .offline-code')
        .filter({ hasText: /^\d{6}$/ })
        .waitFor();
    } finally {
      await context.setOffline(false);
    }
  });

  test('after a reload the account is still there; removing it tells the server first', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    await page.reload();
    await page
      .locator('.account .offline-code')
      .filter({ hasText: /^\d{6}$/ })
      .waitFor();
    await page.locator('.remove-account').click();
    assert.equal(api.removed, false, 'the first tap removes nothing');
    await page.locator('.remove-confirm').click();
    await page.locator('#accounts-empty').waitFor({ timeout: WAIT_MS });
    assert.equal(api.removed, true);
    assert.deepEqual(api.deviceCalls.at(-1), {
      htm: 'DELETE',
      htu: '/mobile/v1/devices/self',
      typ: 'mfa-device+jwt',
    });
    // The browser logs the refused activation code and the calls made while offline; nothing else.
    const expected = [/\/activate\?c=.*status of 400/, /ERR_INTERNET_DISCONNECTED/];
    const unexpected = problems.all().filter((line) => !expected.some((pattern) => pattern.test(line)));
    assert.deepEqual(unexpected, []);
  });

  test('a device removed by an administrator (401) stops polling and no longer shows a code', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    await page.goto(`${origin}/mobile/app/activate?c=${GOOD_CODE}`);
    await page.locator('#activate-button').click();
    await page
      .locator('.account .offline-code')
      .filter({ hasText: /^\d{6}$/ })
      .waitFor();
    api.removed = true;
    await page.locator('.account .account-revoked').waitFor();
    assert.match((await page.locator('.account-revoked').textContent()) ?? '', /No longer registered/);
    assert.equal(await page.locator('.account .offline-code').count(), 0);
    const calls = api.deviceCalls.length;
    await page.locator('.remove-account').click();
    await page.locator('.remove-confirm').click();
    await page.locator('#accounts-empty').waitFor();
    assert.equal(api.deviceCalls.length, calls, 'removed on the phone only: the server no longer knows it');
  });
});
