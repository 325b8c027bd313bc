// The gateway's sign-in flows end to end over real sockets: forms, the one-time bypass, users
// without a factor, Basic with an appended code, form interception, revocation by an
// administrator, and bodies streamed both ways.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { startIntranetApp } from '../../demo/intranet-app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { buildServices } from '../../src/main.ts';
import { browse, CookieJar, type GatewaySite, signIn, startGatewaySite } from '../helpers/gateway-site.ts';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the gateway in front of the intranet app', () => {
  let site: GatewaySite;
  let app: Awaited<ReturnType<typeof startIntranetApp>>;
  const echo = async (jar: CookieJar, path = '/echo.json') => {
    const response = await fetch(`${site.url}${path}`, {
      headers: { cookie: jar.header() },
      redirect: 'manual',
    });
    return {
      status: response.status,
      body: (response.status === 200 ? await response.json() : undefined) as {
        headers: Record<string, string>;
      },
    };
  };

  before(async () => {
    app = await startIntranetApp({ port: 0 });
    site = await startGatewaySite({
      gatewayExtra: '  noSecondFactor: deny\n  session: { revocationCheckSeconds: 0 }',
      apps: `    - { name: public-pages, match: { pathPrefix: /public }, upstream: '${app.url}', policy: bypass }
    - { name: basic-area, match: { pathPrefix: /basic }, upstream: '${app.url}', auth: basic }
    - name: legacy-login
      match: { pathPrefix: /app-login }
      upstream: '${app.url}'
      auth: form-intercept
      formIntercept: { path: /app-login/login }
    - { name: intranet, match: { pathPrefix: / }, upstream: '${app.url}', policy: two_factor }`,
    });
  });
  after(async () => {
    await site.stop();
    await app.close();
  });

  test('password and code give a session, and the app receives who the user is', async () => {
    const { jar, final } = await signIn(site, 'alice', 'alice-pw', { rd: '/echo.json?x=1' });
    assert.equal(final.status, 303);
    assert.equal(final.headers.get('location'), '/echo.json?x=1');
    const { status, body } = await echo(jar);
    assert.equal(status, 200);
    assert.equal(body.headers['remote-user'], 'alice');
    assert.equal(body.headers['remote-groups'], 'staff,vpn-users');
    assert.equal(body.headers['remote-email'], 'alice@example.test');
    assert.equal(body.headers['remote-name'], 'Alice Example');
    assert.equal(body.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(body.headers['x-forwarded-proto'], 'http');
  });

  test('the session cookie is HttpOnly, SameSite=Lax and bound to this host', async () => {
    const { final } = await signIn(site, 'bob', 'bob-pw');
    const cookie = final.headers.getSetCookie().find((c) => c.startsWith('mfa_session='));
    assert.ok(cookie);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\//);
    assert.doesNotMatch(cookie, /Domain=/i);
  });

  test('the password alone gives no access to a two-factor app', async () => {
    const { jar } = await signIn(site, 'dave', 'dave-pw', { code: false });
    assert.equal((await echo(jar)).status, 302);
  });

  test('a one-time bypass issued by an administrator is honoured once', async () => {
    const services = await buildServices(loadConfig(`${site.dir}/config.yaml`), {
      logger: pino({ level: 'silent' }),
    });
    try {
      await services.userAdmin.issueBypass(
        'erin',
        { seconds: 60 },
        { actor: 'test', channel: 'cli', clientAddress: 'local' },
      );
    } finally {
      await services.close();
    }
    const first = await signIn(site, 'erin', 'erin-pw', { code: false });
    assert.equal(first.final.headers.get('location'), '/', 'straight through, no code asked');
    assert.equal((await echo(first.jar)).body.headers['remote-user'], 'erin');
    const second = await signIn(site, 'erin', 'erin-pw', { code: false });
    assert.equal(second.final.headers.get('location'), '/_mfa/login', 'the second sign-in asks for the code');
  });

  test('a user with no second factor sees the denial page and does not reach the app', async () => {
    const { jar, final } = await signIn(site, 'carol', 'carol-pw');
    assert.equal(final.status, 403);
    assert.match(await final.text(), /No second factor/);
    assert.equal((await echo(jar)).status, 302);
  });

  test('a wrong password shows one generic message and no session', async () => {
    const { jar, final } = await signIn(site, 'alice', 'wrong');
    assert.equal(final.status, 401);
    assert.match(await final.text(), /Sign-in failed/);
    assert.equal(jar.cookies.has('mfa_session'), false);
  });

  test('disabling a user ends the sessions they hold', async () => {
    const { jar } = await signIn(site, 'bob', 'bob-pw');
    assert.equal((await echo(jar)).status, 200);
    const services = await buildServices(loadConfig(`${site.dir}/config.yaml`), {
      logger: pino({ level: 'silent' }),
    });
    try {
      await services.userAdmin.disable('bob', { actor: 'test', channel: 'cli', clientAddress: 'local' });
    } finally {
      await services.close();
    }
    assert.equal((await echo(jar)).status, 302);
  });

  test('logout revokes the session: the same cookie is refused afterwards', async () => {
    const { jar } = await signIn(site, 'alice', 'alice-pw');
    const copy = new CookieJar();
    for (const [name, value] of jar.cookies) copy.cookies.set(name, value);
    const out = await fetch(`${site.url}/_mfa/logout`, { headers: { cookie: jar.header() } });
    assert.equal(out.status, 200);
    assert.equal((await echo(copy)).status, 302);
  });

  test('Basic mode: password with the code appended reaches the app; the password never does', async () => {
    const code = site.code('dave');
    const response = await fetch(`${site.url}/basic/`, {
      headers: { authorization: basic('dave', `dave-pw,${code}`) },
    });
    assert.equal(response.status, 200);
    const page = await response.text();
    assert.match(page, /id="authorization-received">no</);
    assert.match(page, /dave/);
    // Clients without cookies are remembered briefly by a hash of credentials and address.
    const again = await fetch(`${site.url}/basic/`, {
      headers: { authorization: basic('dave', `dave-pw,${code}`) },
    });
    assert.equal(again.status, 200);
  });

  test('Basic mode: no code, a wrong code or a wrong password get the 401 challenge', async () => {
    for (const password of ['dave-pw', 'dave-pw,000000', `nope,${'1'.repeat(6)}`]) {
      const response = await fetch(`${site.url}/basic/`, {
        headers: { authorization: basic('dave', password) },
      });
      assert.equal(response.status, 401, password);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="basic-area"/);
    }
    assert.equal((await fetch(`${site.url}/basic/`)).status, 401);
  });

  test('form interception: the app sees its login post only after the second factor', async () => {
    const jar = new CookieJar();
    const go = browse(site, jar);
    assert.equal((await go('/app-login/')).status, 200, 'the app serves its own form');
    const post = await go('/app-login/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=erin&password=erin-pw',
    });
    assert.equal(post.status, 303);
    assert.equal(post.headers.get('location'), '/_mfa/login');
    assert.equal(jar.cookies.has('legacy_session'), false, 'the app has not seen the post yet');
    const page = await (await go('/_mfa/login')).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const done = await go('/_mfa/login/code', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, code: site.code('erin') }).toString(),
    });
    assert.equal(
      done.status,
      303,
      `the app answers the replayed post: ${done.status} ${await done.clone().text()}`,
    );
    assert.equal(done.headers.get('location'), '/app-login/welcome');
    assert.ok(jar.cookies.has('legacy_session'), "the app's own session cookie arrives");
    const landed = await go('/app-login/welcome');
    const welcome = `${landed.status} ${landed.headers.get('location')} ${await landed.text()}`;
    assert.match(welcome, /^200 .*Welcome, <strong id="welcome-user">erin</s);
  });

  test('form interception: a wrong password never reaches the app', async () => {
    const response = await fetch(`${site.url}/app-login/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=erin&password=nope',
      redirect: 'manual',
    });
    assert.equal(response.status, 401);
    assert.equal(
      response.headers.getSetCookie().some((c) => c.startsWith('legacy_session')),
      false,
    );
  });

  test('a 1 GB upload and download stream through without being buffered', async () => {
    const { jar } = await signIn(site, 'frank', 'frank-pw');
    const total = 1024 ** 3;
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    let peakRss = process.memoryUsage().rss;
    const startRss = peakRss;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        if (sent >= total) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const upload = await fetch(`${site.url}/upload`, {
      method: 'POST',
      headers: { cookie: jar.header(), 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(upload.status, 200);
    assert.deepEqual(await upload.json(), { bytes: total });
    const download = await fetch(`${site.url}/download?bytes=${total}`, {
      headers: { cookie: jar.header() },
    });
    let received = 0;
    for await (const part of download.body as ReadableStream<Uint8Array>) {
      received += part.length;
      if (received % (64 * 1024 * 1024) < part.length) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    assert.equal(received, total);
    // Test, gateway and app share this process: a buffered gigabyte would show here.
    assert.ok(peakRss - startRss < 256 * 1024 * 1024, `rss grew by ${(peakRss - startRss) >> 20} MiB`);
  });
});
