// The gateway in a real browser (Debian's Chromium through playwright-core), in front of the bundled
// demo intranet app, with the apps of config/demo.yaml. A small recording proxy sits between the
// gateway and the app so that "the app never saw it" is checked, not assumed. Codes come from
// oathtool. Each test uses its own browser context; each user gets at most two codes per file run.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type IntranetApp, startIntranetApp } from '../../demo/intranet-app.ts';
import { launchBrowser, newContext, type PageProblems, recordProblems, WAIT_MS } from '../helpers/browser.ts';
import { type GatewaySite, oathtoolCode, SEEDS, startGatewaySite } from '../helpers/gateway-site.ts';

const COOKIE = 'mfa_session';
const TEST_TIMEOUT = 60_000;

// ---------------------------------------------------------------- recording proxy in front of the app

interface Seen {
  method: string;
  path: string;
  upgrade: boolean;
  headers: http.IncomingHttpHeaders;
}

interface Recorder {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** Passes every request and upgrade through to `target` unchanged, and remembers what it passed. */
async function startRecorder(target: string): Promise<Recorder> {
  const upstream = new URL(target);
  const port = Number(upstream.port);
  const seen: Seen[] = [];
  const tunnels = new Set<net.Socket>();
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', upgrade: false, headers: req.headers });
    const forwarded = http.request(
      { host: upstream.hostname, port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', upgrade: true, headers: req.headers });
    const tunnel = net.connect(port, upstream.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      tunnel.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) tunnel.write(head);
      socket.pipe(tunnel).pipe(socket);
    });
    tunnels.add(tunnel).add(socket);
    const end = () => {
      tunnel.destroy();
      socket.destroy();
    };
    tunnel.on('error', end).on('close', end);
    socket.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    seen,
    async close() {
      for (const socket of tunnels) socket.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

// ---------------------------------------------------------------- the site

let browser: Browser;
let app: IntranetApp;
let recorder: Recorder;
let site: GatewaySite;
const contexts: BrowserContext[] = [];

async function fresh(options: Parameters<typeof newContext>[1] = {}): Promise<BrowserContext> {
  const context = await newContext(browser, options);
  contexts.push(context);
  return context;
}

const pathOf = (page: Page) => new URL(page.url()).pathname;
const seenSince = (mark: number) => recorder.seen.slice(mark);
const appSaw = (mark: number, method: string, path: string) =>
  seenSince(mark).filter((r) => r.method === method && r.path.split('?', 1)[0] === path);

/** On the gateway's login page: fill it by label and submit; wait for the code page. */
async function enterPassword(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
}

/** On the gateway's code page: type the code and submit. */
async function enterCode(page: Page, code: string): Promise<void> {
  await page.getByLabel('Verification code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
}

/** A six-digit code that oathtool says is not valid for `seed` anywhere in the ±1 step window. */
function wrongCode(seed: string): string {
  const now = Math.floor(Date.now() / 30_000);
  const valid = new Set([-2, -1, 0, 1, 2].map((d) => oathtoolCode(seed, now + d)));
  for (let n = 123_456; ; n = (n + 111_111) % 1_000_000) {
    const candidate = String(n).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}

/** The first test's sign-in, kept for the tests that continue it (each runs it if it has not run). */
let first: { context: BrowserContext; page: Page; problems: string[]; mark: number } | undefined;

async function aliceSignsIn(): Promise<NonNullable<typeof first>> {
  if (first) return first;
  const context = await fresh();
  const problems = await recordProblems(context);
  const page = await context.newPage();
  const mark = recorder.seen.length;
  await page.goto(`${site.url}/echo`);
  assert.equal(pathOf(page), '/_mfa/login');
  assert.equal(new URL(page.url()).searchParams.get('rd'), '/echo');
  assert.equal(appSaw(mark, 'GET', '/echo').length, 0, 'the app saw /echo before sign-in');
  await enterPassword(page, 'alice', 'alice-pw');
  await enterCode(page, site.code('alice'));
  await page.waitForURL((url) => url.pathname === '/echo');
  first = { context, page, problems: snapshot(problems), mark };
  return first;
}

const snapshot = (problems: PageProblems) => problems.all().slice();

before(async () => {
  app = await startIntranetApp({ port: 0 });
  recorder = await startRecorder(app.url);
  const upstream = recorder.url;
  site = await startGatewaySite({
    gatewayExtra: '  noSecondFactor: deny',
    apps: `    - name: public-pages
      match: { pathPrefix: /public }
      upstream: '${upstream}'
      policy: bypass
    - name: basic-area
      match: { pathPrefix: /basic }
      upstream: '${upstream}'
      policy: two_factor
      auth: basic
    - name: legacy-login
      match: { pathPrefix: /app-login }
      upstream: '${upstream}'
      policy: two_factor
      auth: form-intercept
      formIntercept: { path: /app-login/login, usernameField: username, passwordField: password }
    - name: intranet
      match: { pathPrefix: / }
      upstream: '${upstream}'
      policy: two_factor`,
  });
  browser = await launchBrowser();
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await site?.stop();
  await recorder?.close();
  await app?.close();
});

describe('the gateway in a browser, in front of the demo intranet app', { timeout: TEST_TIMEOUT * 8 }, () => {
  test('a user signs in with password and an oathtool code and lands on the app, which sees who they are', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const { context, page, mark } = await aliceSignsIn();
    assert.equal(await page.locator('#remote-user').textContent(), 'alice');
    const groups = (await page.locator('#remote-groups').textContent())?.split(',').map((g) => g.trim());
    assert.ok(groups?.includes('staff') && groups.includes('vpn-users'), `groups: ${groups}`);
    assert.equal(await page.locator('#remote-email').textContent(), 'alice@example.test');
    assert.equal(await page.locator('#remote-name').textContent(), 'Alice Example');
    const requests = appSaw(mark, 'GET', '/echo');
    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.headers['remote-user'], 'alice');
    assert.ok(!(requests[0]?.headers.cookie ?? '').includes(COOKIE), 'the gateway cookie reached the app');

    const cookie = (await context.cookies(site.url)).find((c) => c.name === COOKIE);
    assert.ok(cookie, 'no session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');
    assert.equal(await page.evaluate(`document.cookie.includes('${COOKIE}')`), false, 'scripts can read it');
  });

  test('after logout a second visit asks again', { timeout: TEST_TIMEOUT }, async () => {
    const { context, page } = await aliceSignsIn();
    const old = (await context.cookies(site.url)).find((c) => c.name === COOKIE);
    assert.ok(old, 'no session cookie before logout');

    // The cookie value alone is a session: it works in another browser context ...
    const elsewhere = await fresh();
    await elsewhere.addCookies([{ name: COOKIE, value: old.value, url: site.url }]);
    const borrowed = await elsewhere.newPage();
    await borrowed.goto(`${site.url}/echo`);
    assert.equal(pathOf(borrowed), '/echo');
    assert.equal(await borrowed.locator('#remote-user').textContent(), 'alice');

    await page.goto(`${site.url}/_mfa/logout`);
    await page.getByRole('heading', { name: 'You have signed out' }).waitFor();
    assert.equal(
      (await context.cookies(site.url)).find((c) => c.name === COOKIE),
      undefined,
    );

    const mark = recorder.seen.length;
    await page.goto(`${site.url}/echo`);
    assert.equal(pathOf(page), '/_mfa/login');
    await page.getByLabel('User name').waitFor();

    // ... and after logout it is refused (revoked), not merely forgotten by the first browser.
    const replay = await fresh();
    await replay.addCookies([{ name: COOKIE, value: old.value, url: site.url }]);
    const again = await replay.newPage();
    await again.goto(`${site.url}/echo`);
    assert.equal(pathOf(again), '/_mfa/login');
    await again.getByLabel('Password').waitFor();
    assert.equal(appSaw(mark, 'GET', '/echo').length, 0, 'the app saw /echo after logout');
  });

  test('a wrong code is refused and the page says so, without reaching the app', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const context = await fresh();
    const page = await context.newPage();
    const mark = recorder.seen.length;
    await page.goto(`${site.url}/echo`);
    await enterPassword(page, 'erin', 'erin-pw');
    await enterCode(page, wrongCode(SEEDS.erin));
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /code was not accepted/i);
    assert.equal(pathOf(page), '/_mfa/login/code');
    assert.equal(await page.getByRole('heading', { name: 'Enter your code' }).count(), 1);
    assert.equal(await page.getByLabel('Verification code').count(), 1, 'the code can be retried');
    // The half-finished session opens nothing.
    const direct = await page.request.get(`${site.url}/echo`, { maxRedirects: 0, timeout: WAIT_MS });
    assert.equal(direct.status(), 302);
    assert.match(direct.headers().location ?? '', /^\/_mfa\/login\?rd=/);
    assert.deepEqual(
      seenSince(mark).map((r) => `${r.method} ${r.path}`),
      [],
      'the app received a request',
    );
  });

  test('the WebSocket echo works through the gateway with a session', { timeout: TEST_TIMEOUT }, async () => {
    const context = await fresh();
    const page = await context.newPage();
    const mark = recorder.seen.length;
    await page.goto(`${site.url}/ws-page`);
    await enterPassword(page, 'dave', 'dave-pw');
    await enterCode(page, site.code('dave'));
    await page.waitForURL((url) => url.pathname === '/ws-page');
    await page.locator('#ws-result', { hasText: 'dave: hello' }).waitFor();
    const upgrades = seenSince(mark).filter((r) => r.upgrade);
    assert.equal(upgrades.length, 1);
    assert.equal(upgrades[0]?.path, '/ws');
    assert.equal(upgrades[0]?.headers['remote-user'], 'dave');
  });

  test("form interception: the legacy app's own login form is checked by the gateway and the app sees the post only after the second factor", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const context = await fresh();
    const page = await context.newPage();
    const mark = recorder.seen.length;
    await page.goto(`${site.url}/app-login/`);
    await page.getByRole('heading', { name: 'Legacy app sign-in' }).waitFor();
    assert.equal(appSaw(mark, 'GET', '/app-login/').length, 1, 'the app serves its own form');

    await page.getByLabel('User name').fill('bob');
    await page.getByLabel('Password').fill('bob-pw');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    assert.equal(pathOf(page), '/_mfa/login');
    assert.equal(appSaw(mark, 'POST', '/app-login/login').length, 0, 'the app saw the post before the code');

    await enterCode(page, site.code('bob'));
    await page.waitForURL((url) => url.pathname === '/app-login/welcome');
    assert.equal(await page.locator('#welcome-user').textContent(), 'bob');
    assert.equal(await page.locator('#remote-user').textContent(), 'bob');
    const posts = appSaw(mark, 'POST', '/app-login/login');
    assert.equal(posts.length, 1, 'the held post is replayed once');
    assert.equal(posts[0]?.headers['remote-user'], 'bob');

    // A wrong password in the app's form: the gateway's failure page, and nothing for the app.
    const other = await fresh();
    const wrong = await other.newPage();
    const mark2 = recorder.seen.length;
    await wrong.goto(`${site.url}/app-login/`);
    await wrong.getByLabel('User name').fill('bob');
    await wrong.getByLabel('Password').fill('not-bobs-password');
    await wrong.getByRole('button', { name: 'Sign in' }).click();
    await wrong.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
    assert.equal(pathOf(wrong), '/app-login/login');
    assert.equal(appSaw(mark2, 'POST', '/app-login/login').length, 0, 'the app saw the refused post');
    await wrong.goto(`${site.url}/app-login/welcome`);
    assert.equal(pathOf(wrong), '/app-login/', 'the app has no session for this browser');
    assert.equal(await wrong.locator('#welcome-user').count(), 0);
  });

  test('the sign-in pages work on a phone-sized screen', { timeout: TEST_TIMEOUT }, async () => {
    const width = 375;
    const context = await fresh({
      viewport: { width, height: 667 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();

    const fits = async (
      what: string,
      names: Array<ReturnType<Page['getByRole']> | ReturnType<Page['getByLabel']>>,
    ) => {
      for (const locator of names) {
        assert.ok(await locator.isVisible(), `${what}: an element is not visible`);
        const box = await locator.boundingBox();
        assert.ok(box, `${what}: no bounding box`);
        assert.ok(
          box.x >= 0 && box.x + box.width <= width,
          `${what}: ${JSON.stringify(box)} leaves the screen`,
        );
        assert.ok(box.height >= 24, `${what}: ${box.height}px is too small to tap`);
      }
      const scrollWidth = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      assert.ok(scrollWidth <= width, `${what}: scrolls sideways (${scrollWidth}px)`);
    };

    await page.goto(`${site.url}/echo`);
    await fits('login page', [
      page.getByLabel('User name'),
      page.getByLabel('Password'),
      page.getByRole('button', { name: 'Sign in' }),
    ]);
    await page.screenshot({ path: '/tmp/mfa-login-phone.png', fullPage: true, timeout: WAIT_MS });

    // The code page too (erin's password only: no code is used up).
    await enterPassword(page, 'erin', 'erin-pw');
    await fits('code page', [
      page.getByLabel('Verification code'),
      page.getByRole('button', { name: 'Verify' }),
    ]);
    await page.screenshot({ path: '/tmp/mfa-code-phone.png', fullPage: true, timeout: WAIT_MS });
  });

  test('pages load with no CSP violations or console errors', { timeout: TEST_TIMEOUT }, async () => {
    // The detector works: an image from another origin, refused by the login page's CSP, is reported.
    const control = await fresh();
    const controlProblems = await recordProblems(control);
    const probe = await control.newPage();
    await probe.goto(`${site.url}/_mfa/login`);
    await probe.evaluate(`{
      const img = document.createElement('img');
      img.src = 'https://blocked.invalid/pixel.png';
      document.body.append(img);
    }`);
    const deadline = Date.now() + WAIT_MS;
    while (controlProblems.cspViolations.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(controlProblems.cspViolations.length > 0, 'the CSP violation detector saw nothing');

    // The first test's whole journey: login page, code page, the app's /echo.
    const { problems } = await aliceSignsIn();
    assert.deepEqual(problems, []);
  });
});
