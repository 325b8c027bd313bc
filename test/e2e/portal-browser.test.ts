// The portal at /enroll in a real browser (Debian's Chromium through playwright-core), in front of the
// demo intranet app: first enrollment read from the page and proven with oathtool, sign-in again with
// a code, the security-question fallback, a user's one-time bypass spent by exactly one gateway
// sign-in, an administrator unblocking a locked user, and the German catalogue. Every page is
// captured at desktop and phone size under test-output/screenshots (for review, not compared).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type IntranetApp, startIntranetApp } from '../../demo/intranet-app.ts';
import { launchBrowser, newContext, type PageProblems, recordProblems } from '../helpers/browser.ts';
import { DEFAULT_USERS, type GatewaySite, oathtoolCode, startGatewaySite } from '../helpers/gateway-site.ts';

const TEST_TIMEOUT = 90_000;
const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

/** carol enrols in the first test; these are her answers (question ids are the defaults). */
const ANSWERS: Record<string, string> = {
  'first-pet': 'Rex',
  'birth-city': 'Frankfurt am Main',
  'first-school': 'Goethe Schule',
  'childhood-friend': 'Jonas',
};

let browser: Browser;
let app: IntranetApp;
let site: GatewaySite;
const contexts: BrowserContext[] = [];
const problems: PageProblems[] = [];
/** carol's seed, read from the enrollment page, and the last time step she used. */
const carol = { secret: '', lastStep: 0 };

async function fresh(options: Parameters<typeof newContext>[1] = {}): Promise<Page> {
  const context = await newContext(browser, { viewport: DESKTOP, ...options });
  contexts.push(context);
  problems.push(await recordProblems(context));
  return context.newPage();
}

/** The page at desktop and phone width, full length. */
async function shoot(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? DESKTOP;
  await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
}

/** carol's next unused code: a later time step than the last one she used, within the ±1 window. */
function carolCode(): string {
  const now = Math.floor(Date.now() / 30_000);
  const step = Math.max(now, carol.lastStep + 1);
  assert.ok(step <= now + 1, 'carol has no unused code left in the window');
  carol.lastStep = step;
  return oathtoolCode(carol.secret, step);
}

const pathOf = (page: Page) => new URL(page.url()).pathname;

async function portalPassword(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${site.url}/enroll`);
  assert.equal(pathOf(page), '/enroll/login');
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function portalSignIn(page: Page, username: string, password: string, code: string): Promise<void> {
  await portalPassword(page, username, password);
  await page.waitForURL((url) => url.pathname === '/enroll/login/code');
  await page.getByLabel('Verification code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL((url) => url.pathname === '/enroll');
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  app = await startIntranetApp({ port: 0 });
  site = await startGatewaySite({
    users: DEFAULT_USERS.map((u) =>
      u.username === 'alice' ? { ...u, groups: [...(u.groups ?? []), 'mfa-admins'] } : u,
    ),
    portalExtra: `  admins:
    - group: mfa-admins
      permissions: [users:read, users:write, bypass, enrollment, audit]`,
    regulation:
      '  user: { maxFailures: 5, windowSeconds: 300, banSeconds: 900 }\n  address: { maxFailures: 500 }',
    apps: `    - name: intranet
      match: { pathPrefix: / }
      upstream: '${app.url}'
      policy: two_factor`,
  });
  browser = await launchBrowser();
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await site?.stop();
  await app?.close();
});

describe('the portal in a browser', { timeout: TEST_TIMEOUT * 8 }, () => {
  test('a user without a factor enrols TOTP (key read from the page, code from oathtool), signs out, and signs in again with a code', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const page = await fresh();
    await page.goto(`${site.url}/enroll`);
    await shoot(page, 'login');
    await portalPassword(page, 'carol', 'carol-pw');
    await page.waitForURL((url) => url.pathname === '/enroll/authenticator');
    await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
    assert.ok(await page.locator('.qr-code svg').isVisible(), 'the QR code is shown');
    carol.secret = ((await page.locator('#totp-secret').textContent()) ?? '').trim();
    assert.match(carol.secret, /^[A-Z2-7]{32}$/);
    await shoot(page, 'enroll-authenticator');
    await page.getByLabel('Code from the app').fill(carolCode());
    await page.getByRole('button', { name: 'Verify and save' }).click();

    await page.waitForURL((url) => url.pathname === '/enroll/phone');
    await shoot(page, 'enroll-phone');
    await page.getByLabel('Mobile phone').fill('+49 30 1234567');
    await page.getByRole('button', { name: 'Save' }).click();

    await page.waitForURL((url) => url.pathname === '/enroll/questions');
    await shoot(page, 'enroll-questions');
    const ids = Object.keys(ANSWERS);
    for (const [index, id] of ids.entries()) {
      await page.locator(`#question-${index + 1}`).selectOption(id);
      await page.locator(`#answer-${index + 1}`).fill(`  ${ANSWERS[id]?.toUpperCase()} `);
    }
    await page.getByRole('button', { name: 'Save' }).click();

    await page.waitForURL((url) => url.pathname === '/enroll' && url.searchParams.get('done') === 'setup');
    assert.match((await page.locator('#done').textContent()) ?? '', /Your account is set up/);
    assert.equal(await page.locator('.device').count(), 1);
    assert.equal(await page.locator('#primary-phone').textContent(), '+49301234567');
    await shoot(page, 'home');

    await page.locator('#sign-out').click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await shoot(page, 'signed-out');

    await portalPassword(page, 'carol', 'carol-pw');
    await page.waitForURL((url) => url.pathname === '/enroll/login/code');
    await shoot(page, 'code');
    await page.getByLabel('Verification code').fill(carolCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL((url) => url.pathname === '/enroll');
    assert.match((await page.locator('h1').textContent()) ?? '', /carol/i);
  });

  test('the security questions let a user in when the authenticator is not at hand', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    assert.ok(carol.secret, 'runs after the enrollment test');
    const page = await fresh();
    await portalPassword(page, 'carol', 'carol-pw');
    await page.waitForURL((url) => url.pathname === '/enroll/login/code');
    await page.locator('#use-questions').click();
    await page.waitForURL((url) => url.pathname === '/enroll/login/questions');
    await shoot(page, 'questions-answer');
    const inputs = page.locator('input[name^="answer_"]');
    const count = await inputs.count();
    assert.equal(count, 2, 'the configured number of questions is asked');
    for (let i = 0; i < count; i++) {
      const name = (await inputs.nth(i).getAttribute('name')) ?? '';
      await inputs.nth(i).fill(ANSWERS[name.slice('answer_'.length)]?.toLowerCase() ?? '');
    }
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.pathname === '/enroll');
    await page.locator('#recent-sign-ins').waitFor();
  });

  test('a one-time bypass lets exactly one sign-in through within its time', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const portal = await fresh();
    await portalSignIn(portal, 'bob', 'bob-pw', site.code('bob'));
    await portal.locator('#bypass-seconds').fill('120');
    await portal.locator('#issue-bypass').click();
    await portal.getByRole('heading', { name: 'One-time bypass created' }).waitFor();
    const remaining = await portal.locator('#bypass-countdown').textContent();
    assert.match(remaining ?? '', /^[12]:\d\d$/);
    await shoot(portal, 'bypass');

    const first = await fresh();
    await first.goto(`${site.url}/echo`);
    await first.getByLabel('User name').fill('bob');
    await first.getByLabel('Password').fill('bob-pw');
    await first.getByRole('button', { name: 'Sign in' }).click();
    await first.waitForURL((url) => url.pathname === '/echo');
    assert.equal(await first.locator('#remote-user').textContent(), 'bob');

    const second = await fresh();
    await second.goto(`${site.url}/echo`);
    await second.getByLabel('User name').fill('bob');
    await second.getByLabel('Password').fill('bob-pw');
    await second.getByRole('button', { name: 'Sign in' }).click();
    await second.getByRole('heading', { name: 'Enter your code' }).waitFor();
    assert.equal(pathOf(second), '/_mfa/login');
  });

  test('an administrator unblocks a locked user, and the audit log shows it', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const locked = await fresh();
    for (let i = 0; i < 5; i++) {
      await portalPassword(locked, 'erin', 'wrong-password');
      await locked.locator('#form-error').waitFor();
    }
    await portalPassword(locked, 'erin', 'erin-pw');
    assert.match((await locked.locator('#form-error').textContent()) ?? '', /Sign-in failed/);
    assert.equal(pathOf(locked), '/enroll/login');

    const admin = await fresh();
    await portalSignIn(admin, 'alice', 'alice-pw', site.code('alice'));
    await admin.goto(`${site.url}/enroll/admin`);
    await shoot(admin, 'admin-users');
    await admin.goto(`${site.url}/enroll/admin/users/erin`);
    await shoot(admin, 'admin-user');
    await admin.locator('form[action$="/unblock"] button[type="submit"]').click();
    await admin.waitForURL((url) => url.pathname === '/enroll/admin/users/erin');
    await admin.goto(`${site.url}/enroll/admin/audit?user=erin`);
    const log = (await admin.locator('#audit-log').textContent()) ?? '';
    assert.match(log, /admin\.user_unblock/);
    assert.match(log, /alice/);
    await shoot(admin, 'admin-audit');

    await portalSignIn(locked, 'erin', 'erin-pw', site.code('erin'));
    assert.equal(pathOf(locked), '/enroll');
  });

  test('the German catalogue renders for a browser that asks for German', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const page = await fresh({ locale: 'de-DE' });
    await page.goto(`${site.url}/enroll`);
    await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'de');
    assert.ok(await page.getByLabel('Benutzername').isVisible());
    assert.ok(await page.getByLabel('Kennwort').isVisible());
    await shoot(page, 'login-de');
    await page.getByLabel('Benutzername').fill('grace');
    await page.getByLabel('Kennwort').fill('grace-pw');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('heading', { name: 'Code eingeben' }).waitFor();
    await page.getByLabel('Bestätigungscode').fill(site.code('grace'));
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await page.waitForURL((url) => url.pathname === '/enroll');
    await page.getByRole('heading', { name: 'Ihre letzten Anmeldungen' }).waitFor();
    await shoot(page, 'home-de');
  });

  test('the remaining pages render, for the screenshots', { timeout: TEST_TIMEOUT }, async () => {
    const user = await fresh();
    await portalSignIn(user, 'frank', 'frank-pw', site.code('frank'));
    for (const [path, name] of [
      ['/enroll/pin', 'pin'],
      ['/enroll/stepup?rd=%2Fenroll', 'stepup'],
      ['/enroll/phone', 'phone-change'],
      ['/enroll/questions', 'questions-change'],
      ['/enroll/no-such-page/../admin', 'admin-forbidden'],
    ] as const) {
      await user.goto(`${site.url}${path}`);
      await user.locator('h1').waitFor();
      await shoot(user, name);
    }
    assert.match((await user.locator('h1').textContent()) ?? '', /Something went wrong/);
    const admin = await fresh();
    await portalSignIn(admin, 'alice', 'alice-pw', site.code('alice'));
    await admin.goto(`${site.url}/enroll/admin/users/new`);
    await admin.locator('h1').waitFor();
    await shoot(admin, 'admin-user-new');
  });

  test('no page broke its CSP or threw', () => {
    // Refused sign-ins answer 401 on purpose; Chromium logs every non-2xx answer as a console error.
    const expected = /Failed to load resource: the server responded with a status of (401|403|404)/;
    assert.deepEqual(
      problems.flatMap((p) => p.all()).filter((line) => !expected.test(line)),
      [],
    );
  });
});
