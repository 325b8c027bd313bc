// Push approvals in real browsers (Debian's Chromium through playwright-core), two contexts side by
// side: a desktop signs in to the portal, activates the web authenticator, and signs in to the demo
// intranet app; a phone-sized context opens the activation link, activates, and answers by number
// matching. Right number: the desktop lands on the app. Wrong number or Deny: denied, and the app is
// never reached. Screenshots of both sides go to test-output/screenshots (for review, not compared).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type IntranetApp, startIntranetApp } from '../../demo/intranet-app.ts';
import { launchBrowser, newContext, type PageProblems, recordProblems } from '../helpers/browser.ts';
import { type GatewaySite, startGatewaySite } from '../helpers/gateway-site.ts';

const TEST_TIMEOUT = 90_000;
const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');
const DESKTOP = { width: 1280, height: 860 };
const PHONE_DEVICE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};

let browser: Browser;
let app: IntranetApp;
let site: GatewaySite;
let desktop: Page;
let phone: Page;
const contexts: BrowserContext[] = [];
const problems: PageProblems[] = [];

async function fresh(options: Parameters<typeof newContext>[1]): Promise<Page> {
  const context = await newContext(browser, options);
  contexts.push(context);
  problems.push(await recordProblems(context));
  return context.newPage();
}

const shoot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const pathOf = (page: Page) => new URL(page.url()).pathname;

/** The gateway's sign-in for the intranet app, up to the page that shows the number. */
async function signInToApp(page: Page, username: string, password: string): Promise<number> {
  await page.goto(`${site.url}/`);
  assert.equal(pathOf(page), '/_mfa/login');
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#push-number').waitFor();
  return Number(await page.locator('#push-number').textContent());
}

/** The phone's card for the newest request, once it arrives. */
async function requestCard(page: Page) {
  const card = page.locator('.request').first();
  await card.waitFor();
  return card;
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  app = await startIntranetApp({ port: 0 });
  site = await startGatewaySite({
    portalExtra: '  methods: [totp, push]\n  mobileApp: { allow: true, maxDevices: 2 }',
    apps: `    - name: intranet
      match: { pathPrefix: / }
      upstream: '${app.url}'
      policy: two_factor`,
  });
  browser = await launchBrowser();
  desktop = await fresh({ viewport: DESKTOP });
  phone = await fresh(PHONE_DEVICE);
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await site?.stop();
  await app?.close();
});

describe('push approvals in two browsers', { timeout: TEST_TIMEOUT * 4 }, () => {
  test('the phone activates from the portal’s QR link, and approving the number shown lands the desktop on the app', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    // Desktop: bob signs in to the portal with his code and asks to activate the mobile app.
    await desktop.goto(`${site.url}/enroll`);
    await desktop.getByLabel('User name').fill('bob');
    await desktop.getByLabel('Password').fill('bob-pw');
    await desktop.getByRole('button', { name: 'Sign in' }).click();
    await desktop.waitForURL((url) => url.pathname === '/enroll/login/code');
    await desktop.getByLabel('Verification code').fill(site.code('bob'));
    await desktop.getByRole('button', { name: 'Verify' }).click();
    await desktop.waitForURL((url) => url.pathname === '/enroll');
    await desktop.locator('#activate-mobile').click();
    await desktop.locator('#activation-url').waitFor();
    assert.ok(await desktop.locator('svg').first().isVisible(), 'a QR code is shown');
    const link = (await desktop.locator('#activation-url').getAttribute('href')) ?? '';
    assert.match(link, new RegExp(`^${site.url}/mobile/app/activate\\?c=[A-Z2-7-]+$`));
    await shoot(desktop, 'push-portal-activation');

    // Phone: the camera opens the link; one tap activates.
    await phone.goto(link);
    await shoot(phone, 'push-phone-activate');
    await phone.locator('#activate-button').click();
    await phone.locator('#activated').waitFor();
    assert.match((await phone.locator('#activated').textContent()) ?? '', /activated for bob/);
    await phone.locator('.account .offline-code').first().waitFor();
    assert.match((await phone.locator('.offline-code').first().textContent()) ?? '', /^\d{6}$/);

    // Desktop: signing in to the app now waits for the phone, showing the number.
    await desktop.goto(`${site.url}/enroll`);
    await desktop.locator('#sign-out').click();
    const number = await signInToApp(desktop, 'bob', 'bob-pw');
    assert.ok(number >= 10 && number <= 99);
    await shoot(desktop, 'push-desktop-waiting');

    const card = await requestCard(phone);
    assert.match((await card.locator('.request-app').textContent()) ?? '', /intranet/);
    const choices = await card.locator('button.choice').allTextContents();
    assert.equal(choices.length, 3);
    assert.ok(choices.map(Number).includes(number), 'the number on the page is one of the three');
    await shoot(phone, 'push-phone-request');
    await card.locator(`button.choice[data-number="${number}"]`).click();
    await phone.locator('#request-result').filter({ hasText: 'Approved' }).waitFor();

    await desktop.waitForURL((url) => url.pathname === '/');
    assert.match(await desktop.content(), /Intranet/i);
    await shoot(desktop, 'push-desktop-landed');
  });

  test('picking a wrong number denies the sign-in', { timeout: TEST_TIMEOUT }, async () => {
    const page = await fresh({ viewport: DESKTOP });
    const number = await signInToApp(page, 'bob', 'bob-pw');
    const card = await requestCard(phone);
    const wrong = (await card.locator('button.choice').allTextContents())
      .map(Number)
      .find((n) => n !== number);
    await card.locator(`button.choice[data-number="${wrong}"]`).click();
    await phone
      .locator('#request-result')
      .filter({ hasText: /Wrong number/ })
      .waitFor();
    await page
      .locator('#push-alert')
      .filter({ hasText: /denied/ })
      .waitFor();
    assert.equal(pathOf(page), '/_mfa/login', 'still on the sign-in page');
    const reached = await page.goto(`${site.url}/`);
    assert.equal(pathOf(page), '/_mfa/login', 'the app is not reached');
    assert.ok(reached);
  });

  test('Deny on the phone denies the sign-in', { timeout: TEST_TIMEOUT }, async () => {
    const page = await fresh({ viewport: DESKTOP });
    await signInToApp(page, 'bob', 'bob-pw');
    const card = await requestCard(phone);
    await card.locator('button.deny').click();
    await phone.locator('#request-result').filter({ hasText: 'Denied' }).waitFor();
    await page
      .locator('#push-alert')
      .filter({ hasText: /denied/ })
      .waitFor();
    await shoot(page, 'push-desktop-denied');
    await page.goto(`${site.url}/`);
    assert.equal(pathOf(page), '/_mfa/login');
  });

  test('no page logged a script error or a CSP violation', () => {
    const seen = problems.flatMap((p) => p.all()).filter((line) => !/status of 4\d\d/.test(line));
    assert.deepEqual(seen, []);
  });
});
