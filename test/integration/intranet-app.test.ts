// The bundled demo intranet app on a real loopback port: every route, its own login form, the
// WebSocket echo, streamed uploads and downloads, and escaping of what it echoes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type IntranetApp, startIntranetApp } from '../../demo/intranet-app.ts';

let app: IntranetApp;

before(async () => {
  app = await startIntranetApp({ port: 0 });
});

after(async () => {
  await app.close();
});

const get = (path: string, init?: RequestInit) => fetch(`${app.url}${path}`, { redirect: 'manual', ...init });

function byId(html: string, id: string): string | undefined {
  return new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html)?.[1];
}

describe('demo intranet app', () => {
  test('listens on loopback and refuses any other address', async () => {
    assert.match(app.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await assert.rejects(startIntranetApp({ host: '0.0.0.0' }), /loopback/);
  });

  test('home page shows Remote-User when the gateway sent one', async () => {
    const anonymous = await get('/');
    assert.equal(anonymous.status, 200);
    assert.match(anonymous.headers.get('content-type') ?? '', /^text\/html/);
    const html = await anonymous.text();
    assert.match(html, /Contoso intranet/);
    assert.match(html, /No <code>Remote-User<\/code> header/);
    const signedIn = await (await get('/', { headers: { 'remote-user': 'alice' } })).text();
    assert.equal(byId(signedIn, 'remote-user'), 'alice');
  });

  test('public page', async () => {
    const response = await get('/public/');
    assert.equal(response.status, 200);
    assert.match(await response.text(), /Notice board/);
    const bare = await get('/public');
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/public/');
  });

  test('/echo lists every header, escaped, with the identity headers by id', async () => {
    const hostile = `<script>alert(1)</script>"'><img src=x onerror=alert(1)>`;
    const response = await get('/echo?x=<b>', {
      headers: {
        'remote-user': 'alice',
        'remote-groups': 'staff,admins',
        'remote-email': 'alice@example.test',
        'remote-name': hostile,
        'x-custom': hostile,
      },
    });
    assert.equal(response.status, 200);
    assert.equal(
      response.headers.get('content-security-policy'),
      "default-src 'self'; frame-ancestors 'none'",
    );
    const html = await response.text();
    assert.equal(byId(html, 'remote-user'), 'alice');
    assert.equal(byId(html, 'remote-groups'), 'staff,admins');
    assert.equal(byId(html, 'remote-email'), 'alice@example.test');
    assert.ok(!html.includes(hostile));
    assert.ok(!html.includes('<img') && !html.includes('<script>'));
    assert.match(
      html,
      /&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&#39;&gt;&lt;img src=x onerror=alert\(1\)&gt;/,
    );
    assert.match(html, /<th scope="row">x-custom<\/th>/);
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/);
  });

  test('/echo leaves the identity fields empty without the headers', async () => {
    const html = await (await get('/echo')).text();
    for (const id of ['remote-user', 'remote-groups', 'remote-email', 'remote-name']) {
      assert.equal(byId(html, id), '', id);
    }
  });

  test('/echo.json reports method, raw URL and headers', async () => {
    const response = await get('/echo.json?a=1&b=%2F', {
      method: 'POST',
      body: 'ignored',
      headers: { 'remote-user': 'bob' },
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { method: string; url: string; headers: Record<string, string> };
    assert.equal(body.method, 'POST');
    assert.equal(body.url, '/echo.json?a=1&b=%2F');
    assert.equal(body.headers['remote-user'], 'bob');
  });

  test('/ws echoes text prefixed with the Remote-User seen at upgrade', async () => {
    const socket = new WebSocket(`${app.url.replace('http:', 'ws:')}/ws`);
    const answer = await new Promise<string>((resolve, reject) => {
      socket.addEventListener('open', () => socket.send('hello'));
      socket.addEventListener('message', (event) => resolve(String(event.data)));
      socket.addEventListener('error', () => reject(new Error('WebSocket error')));
    });
    socket.close();
    // The browser WebSocket cannot set headers, so the app saw no Remote-User here.
    assert.equal(answer, '(anonymous): hello');
  });

  test('/ws uses the Remote-User header of the upgrade request', async () => {
    const { default: WebSocketClient } = await import('ws');
    const socket = new WebSocketClient(`${app.url.replace('http:', 'ws:')}/ws`, {
      headers: { 'remote-user': 'carol' },
    });
    const answer = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => socket.send('hi there'));
      socket.on('message', (data) => resolve(String(data)));
      socket.on('error', reject);
    });
    socket.close();
    assert.equal(answer, 'carol: hi there');
  });

  test('/ws-page loads its script from a file and names the result element', async () => {
    const html = await (await get('/ws-page')).text();
    assert.match(html, /<script src="\/ws-page.js" defer><\/script>/);
    assert.match(html, /id="ws-result"/);
    const script = await get('/ws-page.js');
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    const source = await script.text();
    assert.match(source, /location\.protocol === 'https:' \? 'wss:' : 'ws:'/);
    assert.match(source, /'\/ws'/);
  });

  test('/app-login: own form, own cookie, welcome page, logout', async () => {
    const form = await get('/app-login/');
    assert.equal(form.status, 200);
    const html = await form.text();
    assert.match(html, /<form method="post" action="\/app-login\/login">/);
    assert.match(html, /name="username"/);
    assert.match(html, /name="password"/);

    assert.equal((await get('/app-login/welcome')).status, 303);

    const empty = await get('/app-login/login', {
      method: 'POST',
      body: new URLSearchParams({ username: 'dave', password: '' }),
    });
    assert.equal(empty.status, 400);

    const login = await get('/app-login/login', {
      method: 'POST',
      body: new URLSearchParams({ username: 'dave<b>', password: 'anything' }),
    });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/app-login/welcome');
    const setCookie = login.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^legacy_session=[A-Za-z0-9_-]{20,}; HttpOnly; SameSite=Lax; Path=\/app-login$/);
    const cookie = setCookie.split(';')[0] ?? '';

    const welcome = await get('/app-login/welcome', { headers: { cookie, 'remote-user': 'dave' } });
    assert.equal(welcome.status, 200);
    const welcomeHtml = await welcome.text();
    assert.match(welcomeHtml, /Welcome, <strong id="welcome-user">dave&lt;b&gt;<\/strong>/);
    assert.equal(byId(welcomeHtml, 'remote-user'), 'dave');

    const again = await get('/app-login/', { headers: { cookie } });
    assert.equal(again.status, 303);
    assert.equal(again.headers.get('location'), '/app-login/welcome');

    const logout = await get('/app-login/logout', { headers: { cookie } });
    assert.equal(logout.status, 303);
    assert.match(logout.headers.get('set-cookie') ?? '', /^legacy_session=; Max-Age=0/);
    assert.equal((await get('/app-login/welcome', { headers: { cookie } })).status, 303);
  });

  test('/app-login/login refuses a body that is not a form', async () => {
    const response = await get('/app-login/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'x', password: 'y' }),
    });
    assert.equal(response.status, 415);
  });

  test('/basic/ says whether an Authorization header reached the app', async () => {
    const without = await (await get('/basic/', { headers: { 'remote-user': 'eve' } })).text();
    assert.equal(byId(without, 'authorization-received'), 'no');
    assert.equal(byId(without, 'remote-user'), 'eve');
    const withAuth = await (await get('/basic/', { headers: { authorization: 'Basic ZXZlOng=' } })).text();
    assert.equal(byId(withAuth, 'authorization-received'), 'yes');
  });

  test('/slow waits the asked time', async () => {
    const started = performance.now();
    const response = await get('/slow?ms=150');
    assert.deepEqual(await response.json(), { waited: 150 });
    assert.ok(performance.now() - started >= 140);
    assert.equal((await get('/slow?ms=abc')).status, 400);
  });

  test('/upload counts a 50 MB streamed body', async () => {
    const total = 50 * 1024 * 1024;
    const chunk = new Uint8Array(1024 * 1024).fill(7);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const response = await get('/upload', { method: 'PUT', body, duplex: 'half' });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { bytes: total });
  });

  test('/download streams the asked number of zero bytes', async () => {
    const bytes = 3 * 64 * 1024 + 17;
    const response = await get(`/download?bytes=${bytes}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-length'), String(bytes));
    const body = new Uint8Array(await response.arrayBuffer());
    assert.equal(body.length, bytes);
    assert.ok(body.every((b) => b === 0));
    assert.equal((await get(`/download?bytes=${2 * 1024 ** 3 + 1}`)).status, 400);
  });

  test('anything else is a 404 page', async () => {
    const response = await get('/nothing/here');
    assert.equal(response.status, 404);
    assert.match(await response.text(), /Not found/);
  });
});
