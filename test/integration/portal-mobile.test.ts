// The portal and the mobile app over real sockets: a signed-in user activates a phone from the
// portal (a QR code of a single-use link), the code redeems once, activating needs a recent second
// factor like any new factor, and the portal's own sign-in then waits for the push: an approval
// signs in, a denial does not, and a code from the app still works instead (withdrawing the push).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  browse,
  CookieJar,
  type GatewaySite,
  oathtoolCode,
  startGatewaySite,
} from '../helpers/gateway-site.ts';
import { activatePhone, newDeviceKey, nextRequest, type Phone } from '../helpers/phone.ts';

const APPS = `    - name: intranet
      match: { pathPrefix: /app }
      upstream: 'http://127.0.0.1:9'
      policy: two_factor`;

const MOBILE = `  mobileApp: { allow: true, maxDevices: 2 }
  methods: [totp, push]`;

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const CODE_SHAPE = /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/;

interface Client {
  go: ReturnType<typeof browse>;
  csrf: string;
  post(path: string, fields?: Record<string, string>): Promise<Response>;
}

function client(site: GatewaySite): Client {
  const go = browse(site, new CookieJar());
  const self: Client = {
    go,
    csrf: '',
    post: (path, fields = {}) =>
      go(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: self.csrf, ...fields }).toString(),
      }),
  };
  return self;
}

/** The sign-in page (CSRF cookie), then the password; returns the client and where it was sent. */
async function password(
  site: GatewaySite,
  username: string,
): Promise<{ c: Client; location: string | null }> {
  const c = client(site);
  c.csrf = csrfOf(await (await c.go('/enroll/login')).text());
  const answer = await c.post('/enroll/login', { username, password: `${username}-pw` });
  await answer.text();
  return { c, location: answer.headers.get('location') };
}

/** The activation page's parts: the code, the link and the QR code. */
function activationPage(html: string) {
  return {
    code: /id="activation-code"[^>]*>([^<]+)</.exec(html)?.[1] ?? '',
    url: /id="activation-url"[^>]*href="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&') ?? '',
    svg: /<div class="qr-code"[^>]*>\s*(<svg[\s\S]*?<\/svg>)/.exec(html)?.[1] ?? '',
  };
}

/** Signs a fully signed-in user in, then opens the activation page; returns the page's parts. */
async function issueActivation(c: Client) {
  c.csrf = csrfOf(await (await c.go('/enroll')).text());
  const page = await c.post('/enroll/mobile');
  const html = await page.text();
  return { page, html, ...activationPage(html) };
}

const pushNumber = (html: string) => Number(/id="push-number"[^>]*>(\d+)</.exec(html)?.[1]);

/** After the password: the phone approves the number the push page shows, and the form is posted. */
async function approveOnPhone(c: Client, phone: Phone): Promise<Response> {
  const number = pushNumber(await (await c.go('/enroll/login/code')).text());
  const request = await nextRequest(phone);
  assert.equal((await phone.answer(request, 'approve', number)).status, 200);
  return c.post('/enroll/login/push');
}

function activationCodes(site: GatewaySite, username: string): number {
  const db = new Database(join(site.dir, 'data', 'mfa.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare(
        'select count(*) as n from activation_codes a join users u on u.id = a.user_id where u.username = ?',
      )
      .get(username) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

describe('activating the mobile app from the portal, then signing in to the portal by push', () => {
  let site: GatewaySite;
  let phone: Phone;
  let activation: { code: string; url: string };

  before(async () => {
    site = await startGatewaySite({ apps: APPS, portalExtra: MOBILE });
  });
  after(() => site?.stop());

  test('a signed-in user gets an activation page with a QR code, the link and a code, not cached', async () => {
    const { c, location } = await password(site, 'bob');
    assert.equal(location, '/enroll/login/code');
    const signedIn = await c.post('/enroll/login/code', { code: site.code('bob') });
    assert.equal(signedIn.headers.get('location'), '/enroll');

    const home = await (await c.go('/enroll')).text();
    assert.match(home, /id="activate-mobile"/);
    assert.match(home, /class="device-kind device-kind-totp">Authenticator app</);

    const { page, html, code, url, svg } = await issueActivation(c);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(code, CODE_SHAPE);
    assert.equal(url, `${site.url}/mobile/app/activate?c=${code}`);
    assert.match(svg, /^<svg[\s\S]*<path/);
    assert.match(html, /valid for 10 minutes/);
    activation = { code, url };
  });

  test('an activation code redeems once; a second redemption is refused', async () => {
    phone = await activatePhone(site.url, activation.code, 'Bob phone');
    assert.equal(phone.username, 'bob');
    assert.ok(phone.deviceId);

    const again = await fetch(`${site.url}/mobile/v1/activations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        code: activation.code,
        deviceName: 'Second phone',
        publicKey: newDeviceKey().publicJwk,
      }),
    });
    assert.equal(again.status, 400);
    assert.equal(((await again.json()) as { code: string }).code, 'mobile.activation_invalid');
  });

  test('a user signs in to the portal by approving the push on the phone', async () => {
    const { c, location } = await password(site, 'bob');
    assert.equal(location, '/enroll/login/code');
    const html = await (await c.go('/enroll/login/code')).text();
    const shown = pushNumber(html);
    assert.ok(shown >= 0, 'the push page shows the number');
    assert.match(html, /id="push-finish"[^>]*data-status-url="\/enroll\/login\/push\/status"/);
    assert.match(html, /src="\/enroll\/static\/push-wait\.js"/);
    assert.match(html, /href="\/enroll\/login\/code\?use=code" id="use-code"/);

    // Not answered yet: the finish form re-shows the page, and the portal is not signed in.
    const early = await c.post('/enroll/login/push');
    assert.equal(early.status, 409);
    assert.match(await early.text(), /Not approved yet/);
    assert.equal((await c.go('/enroll')).headers.get('location'), '/enroll/login/code');

    // The status poll is held open until the phone answers.
    const status = c
      .go('/enroll/login/push/status')
      .then(async (r) => ({ status: r.status, body: await r.json() }));
    const first = await Promise.race([status, new Promise((r) => setTimeout(() => r('held'), 300))]);
    assert.equal(first, 'held');
    const request = await nextRequest(phone);
    assert.ok(request.choices.includes(shown));
    assert.equal((await phone.answer(request, 'approve', shown)).status, 200);
    assert.deepEqual(await status, { status: 200, body: { state: 'approved' } });

    const done = await c.post('/enroll/login/push');
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), '/enroll');
    const home = await c.go('/enroll');
    assert.equal(home.status, 200);
    assert.match(await home.text(), /id="sign-out"/);
  });

  test('the home page lists the phone as a mobile app and push as the method', async () => {
    const { c } = await password(site, 'bob');
    assert.equal((await approveOnPhone(c, phone)).headers.get('location'), '/enroll');
    const home = await (await c.go('/enroll')).text();
    assert.match(home, /class="device-kind device-kind-totp">Authenticator app</);
    assert.match(home, /class="device-kind device-kind-mobile">Mobile app</);
    assert.match(home, /Mobile app: Bob phone/);
    assert.match(home, /id="current-method">Mobile app \(push\)</);
  });

  test('a denied push does not sign in to the portal', async () => {
    const { c, location } = await password(site, 'bob');
    assert.equal(location, '/enroll/login/code');
    await (await c.go('/enroll/login/code')).text();
    const request = await nextRequest(phone);
    assert.equal((await phone.answer(request, 'deny', null)).status, 200);
    const status = await c.go('/enroll/login/push/status');
    assert.deepEqual(await status.json(), { state: 'denied' });

    const finish = await c.post('/enroll/login/push');
    assert.equal(finish.status, 401);
    assert.match(await finish.text(), /not approved on your phone/);
    assert.equal((await c.go('/enroll')).headers.get('location'), '/enroll/login');
    // The sign-in is over: nothing is left to wait for.
    assert.equal((await c.go('/enroll/login/push/status')).status, 404);
  });

  test('a code from the app instead of the push signs in and withdraws the push from the phone', async () => {
    const { c } = await password(site, 'bob');
    await (await c.go('/enroll/login/code')).text();
    assert.equal((await nextRequest(phone)).choices.length, 3);
    const codePage = await (await c.go('/enroll/login/code?use=code')).text();
    assert.match(codePage, /name="code"/);
    assert.match(codePage, /id="use-push"/);
    const code = oathtoolCode(phone.totp.secret, Math.floor(Date.now() / 30_000));
    const done = await c.post('/enroll/login/code', { code });
    assert.equal(done.headers.get('location'), '/enroll');
    assert.deepEqual(await phone.pending(0), [], 'the phone no longer shows the request');
  });

  test('no more phones than maxDevices: the error page says so and no code is issued', async () => {
    const { c } = await password(site, 'bob');
    assert.equal((await approveOnPhone(c, phone)).headers.get('location'), '/enroll');

    const second = await issueActivation(c);
    await activatePhone(site.url, second.code, 'Bob tablet');
    const before = activationCodes(site, 'bob');
    const third = await issueActivation(c);
    assert.equal(third.page.status, 409);
    assert.match(third.html, /as many mobile devices as allowed/);
    assert.equal(third.code, '');
    assert.equal(activationCodes(site, 'bob'), before, 'no code was stored');
  });

  test('a user without a factor can choose the mobile app in the wizard and activate it', async () => {
    const { c, location } = await password(site, 'carol');
    assert.equal(location, '/enroll/setup');
    assert.equal((await c.go('/enroll/setup')).headers.get('location'), '/enroll/setup/method');
    const methods = await (await c.go('/enroll/setup/method')).text();
    assert.match(methods, /id="method-push"/);
    assert.match(methods, /Mobile app \(push\)/);
    assert.equal(
      (await c.post('/enroll/setup/method', { method: 'push' })).headers.get('location'),
      '/enroll/setup',
    );
    assert.equal((await c.go('/enroll/setup')).headers.get('location'), '/enroll/mobile');
    const intro = await (await c.go('/enroll/mobile')).text();
    assert.match(intro, /id="activate-mobile"/);
    assert.match(intro, /id="use-authenticator"/);
    // And back: the authenticator step offers the mobile app instead.
    assert.match(
      await (await c.go('/enroll/authenticator')).text(),
      /href="\/enroll\/mobile" id="use-mobile"/,
    );

    const page = await c.post('/enroll/mobile');
    const html = await page.text();
    const { code } = activationPage(html);
    assert.match(code, CODE_SHAPE);
    assert.match(html, /id="activation-done"[^>]*>Sign in again</);
    const carolPhone = await activatePhone(site.url, code, 'Carol phone');
    assert.equal(carolPhone.username, 'carol');
    // The password-only session proved nothing about the phone: it cannot go on without it.
    assert.equal((await c.go('/enroll/phone')).headers.get('location'), '/enroll/login');
  });
});

describe('activating the mobile app needs a recent second factor', () => {
  let site: GatewaySite;
  before(async () => {
    site = await startGatewaySite({
      apps: APPS,
      portalExtra: `${MOBILE}
  trustedNetworks: [127.0.0.1/32]`,
    });
  });
  after(() => site?.stop());

  test('a session signed in from a trusted network without a code is sent to the step-up', async () => {
    const { c, location } = await password(site, 'alice');
    assert.equal(location, '/enroll', 'the trusted network signs in with the password');
    c.csrf = csrfOf(await (await c.go('/enroll')).text());
    const refused = await c.post('/enroll/mobile');
    assert.equal(refused.status, 303);
    assert.equal(refused.headers.get('location'), '/enroll/stepup?rd=%2Fenroll%2Fmobile');
    assert.equal(activationCodes(site, 'alice'), 0, 'no code was issued');

    const stepUp = await c.post('/enroll/stepup', { code: site.code('alice'), rd: '/enroll/mobile' });
    assert.equal(stepUp.headers.get('location'), '/enroll/mobile');
    assert.match(await (await c.go('/enroll/mobile')).text(), /id="activate-mobile"/);
    const page = await c.post('/enroll/mobile');
    assert.equal(page.status, 200);
    assert.match(activationPage(await page.text()).code, CODE_SHAPE);
    assert.equal(activationCodes(site, 'alice'), 1);
  });
});
