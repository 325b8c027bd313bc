// The bundled "legacy intranet" app the demo puts behind the gateway. Like the apps the gateway
// replaces the IIS plug-in for, it trusts the identity headers (Remote-User ...) it receives: that is
// only safe because it listens on loopback and the gateway is its only client. It also has its own
// login form (for the gateway's form interception), a WebSocket echo, and slow / large routes.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

export interface IntranetAppOptions {
  /** Loopback address to listen on; default 127.0.0.1. Anything else is refused. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface IntranetApp {
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_SLOW_MS = 120_000;
const MAX_DOWNLOAD_BYTES = 2 * 1024 ** 3;
const MAX_FORM_BYTES = 16 * 1024;
const CHUNK = Buffer.alloc(64 * 1024);
const SESSION_COOKIE = 'legacy_session';
const IDENTITY_HEADERS = ['remote-user', 'remote-groups', 'remote-email', 'remote-name'] as const;
const CSP = "default-src 'self'; frame-ancestors 'none'";
const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

type Request = http.IncomingMessage;
type Response = http.ServerResponse;

function escapeHtml(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function header(request: Request, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** `body` is trusted markup built by the callers below, with every value passed through escapeHtml. */
function page(response: Response, status: number, title: string, body: string, script?: string): void {
  const scriptTag = script === undefined ? '' : `<script src="${escapeHtml(script)}" defer></script>\n`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - Contoso intranet</title>
${scriptTag}</head>
<body>
<header><a href="/">Contoso intranet</a></header>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': CSP,
    'cache-control': 'no-store',
  });
  response.end(html);
}

function json(response: Response, status: number, value: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(value));
}

function redirect(response: Response, status: 301 | 303, location: string, cookie?: string): void {
  response.writeHead(status, { location, ...(cookie ? { 'set-cookie': cookie } : {}) });
  response.end();
}

function remoteUserLine(request: Request): string {
  const user = header(request, 'remote-user');
  return user === undefined
    ? '<p>No <code>Remote-User</code> header: this request did not come through the gateway.</p>'
    : `<p>Signed in as <strong id="remote-user">${escapeHtml(user)}</strong> (from <code>Remote-User</code>).</p>`;
}

function home(request: Request, response: Response): void {
  page(
    response,
    200,
    'Contoso intranet',
    `${remoteUserLine(request)}
<ul>
<li><a href="/public/">Public notice board</a> (no sign-in)</li>
<li><a href="/echo">Request headers the app received</a> (<a href="/echo.json">JSON</a>)</li>
<li><a href="/ws-page">WebSocket echo</a></li>
<li><a href="/app-login/">Legacy app with its own login form</a></li>
<li><a href="/basic/">Area protected with HTTP Basic</a></li>
<li><a href="/slow?ms=3000">A slow page (3 s)</a></li>
<li><a href="/download?bytes=1048576">Download 1 MiB</a></li>
</ul>`,
  );
}

function echo(request: Request, response: Response): void {
  const identity = IDENTITY_HEADERS.map(
    (name) => `<dt>${name}</dt>\n<dd id="${name}">${escapeHtml(header(request, name) ?? '')}</dd>`,
  ).join('\n');
  const rows: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    rows.push(
      `<tr><th scope="row">${escapeHtml(request.rawHeaders[i])}</th><td>${escapeHtml(request.rawHeaders[i + 1])}</td></tr>`,
    );
  }
  page(
    response,
    200,
    'Request headers',
    `<p><code>${escapeHtml(request.method)} ${escapeHtml(request.url)}</code></p>
<h2>Identity</h2>
<dl>
${identity}
</dl>
<h2>Every header</h2>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`,
  );
}

const WS_PAGE_JS = `// Connects to /ws on this host, says hello and shows the echo.
(() => {
  'use strict';
  const result = document.getElementById('ws-result');
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(scheme + '//' + location.host + '/ws');
  socket.addEventListener('open', () => socket.send('hello'));
  socket.addEventListener('message', (event) => {
    result.textContent = String(event.data);
    socket.close();
  });
  socket.addEventListener('error', () => {
    result.textContent = 'WebSocket error';
  });
})();
`;

function wsPage(response: Response): void {
  page(
    response,
    200,
    'WebSocket echo',
    `<p>This page opens a WebSocket to <code>/ws</code>, sends "hello" and shows the answer.</p>
<p>Answer: <output id="ws-result">connecting…</output></p>`,
    '/ws-page.js',
  );
}

/** The app's own sessions: cookie id → user name. In memory; the demo app keeps no state on disk. */
function createLegacyLogin() {
  const sessions = new Map<string, string>();

  const sessionOf = (request: Request): { id: string; user: string } | undefined => {
    for (const part of (request.headers.cookie ?? '').split(';')) {
      const [name, value] = part.trim().split('=', 2);
      if (name !== SESSION_COOKIE || !value) continue;
      const user = sessions.get(value);
      if (user !== undefined) return { id: value, user };
    }
    return undefined;
  };

  const form = (response: Response, status: number, error?: string) =>
    page(
      response,
      status,
      'Legacy app sign-in',
      `${error ? `<p role="alert">${escapeHtml(error)}</p>\n` : ''}<form method="post" action="/app-login/login">
<p><label for="username">User name</label><br><input id="username" name="username" autocomplete="username" required></p>
<p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>`,
    );

  const login = async (request: Request, response: Response) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      request.resume();
      return form(response, 415, 'The form must be sent as application/x-www-form-urlencoded.');
    }
    let body = '';
    for await (const chunk of request) {
      body += chunk;
      if (body.length > MAX_FORM_BYTES) return form(response, 413, 'The form is too large.');
    }
    const fields = new URLSearchParams(body);
    const username = fields.get('username') ?? '';
    const password = fields.get('password') ?? '';
    // Any non-empty pair is accepted: the gateway intercepts this post and checks the real
    // credentials against the directory before the app ever sees it. Never run this app unprotected.
    if (username === '' || password === '') return form(response, 400, 'Enter a user name and a password.');
    const id = randomBytes(24).toString('base64url');
    sessions.set(id, username);
    redirect(
      response,
      303,
      '/app-login/welcome',
      `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Lax; Path=/app-login`,
    );
  };

  return async (path: string, request: Request, response: Response): Promise<boolean> => {
    const session = sessionOf(request);
    if (path === '/app-login/' && isRead(request)) {
      if (session) redirect(response, 303, '/app-login/welcome');
      else form(response, 200);
    } else if (path === '/app-login/login' && request.method === 'POST') {
      await login(request, response);
    } else if (path === '/app-login/welcome' && isRead(request)) {
      if (!session) redirect(response, 303, '/app-login/');
      else
        page(
          response,
          200,
          'Legacy app',
          `<p>Welcome, <strong id="welcome-user">${escapeHtml(session.user)}</strong></p>
<p>Remote-User from the gateway: <code id="remote-user">${escapeHtml(header(request, 'remote-user') ?? '')}</code></p>
<p><a href="/app-login/logout">Sign out of the legacy app</a></p>`,
        );
    } else if (path === '/app-login/logout' && (isRead(request) || request.method === 'POST')) {
      if (session) sessions.delete(session.id);
      request.resume();
      redirect(
        response,
        303,
        '/app-login/',
        `${SESSION_COOKIE}=; Max-Age=0; HttpOnly; SameSite=Lax; Path=/app-login`,
      );
    } else {
      return false;
    }
    return true;
  };
}

function isRead(request: Request): boolean {
  return request.method === 'GET' || request.method === 'HEAD';
}

function slow(url: URL, request: Request, response: Response): void {
  const ms = Number(url.searchParams.get('ms') ?? '0');
  if (!Number.isInteger(ms) || ms < 0) {
    json(response, 400, { error: 'ms must be a whole number' });
    return;
  }
  const waited = Math.min(ms, MAX_SLOW_MS);
  const timer = setTimeout(() => json(response, 200, { waited }), waited);
  response.on('close', () => clearTimeout(timer));
  request.resume();
}

async function upload(request: Request, response: Response): Promise<void> {
  let bytes = 0;
  for await (const chunk of request) bytes += (chunk as Buffer).length;
  json(response, 200, { bytes });
}

async function download(url: URL, request: Request, response: Response): Promise<void> {
  const bytes = Number(url.searchParams.get('bytes') ?? '0');
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_DOWNLOAD_BYTES) {
    return json(response, 400, { error: `bytes must be a whole number up to ${MAX_DOWNLOAD_BYTES}` });
  }
  function* zeros() {
    for (let left = bytes; left > 0; left -= CHUNK.length)
      yield CHUNK.subarray(0, Math.min(left, CHUNK.length));
  }
  response.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(bytes),
    'content-disposition': 'attachment; filename="zeros.bin"',
  });
  if (request.method === 'HEAD') return void response.end();
  // pipeline waits for 'drain' between chunks and stops when the client goes away.
  await pipeline(Readable.from(zeros(), { objectMode: false }), response).catch(() => {});
}

function createHandler() {
  const legacy = createLegacyLogin();

  return async (request: Request, response: Response): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://intranet.invalid');
    const path = url.pathname;
    if (await legacy(path, request, response)) return;
    const read = isRead(request);
    if (read && (path === '/public' || path === '/basic' || path === '/app-login')) {
      return redirect(response, 301, `${path}/${url.search}`);
    }
    if (path === '/echo') {
      request.resume();
      return echo(request, response);
    }
    if (path === '/echo.json') {
      request.resume();
      return json(response, 200, {
        method: request.method,
        url: request.url,
        headers: request.headers,
        rawHeaders: request.rawHeaders,
      });
    }
    if (path === '/upload' && (request.method === 'POST' || request.method === 'PUT')) {
      return upload(request, response);
    }
    request.resume();
    if (path === '/slow') return slow(url, request, response);
    if (!read) {
      response.writeHead(405, { allow: 'GET, HEAD' });
      return void response.end();
    }
    if (path === '/') return home(request, response);
    if (path === '/public/') {
      return page(
        response,
        200,
        'Notice board',
        `<p>Canteen menu, car park rules: anyone may read this.</p>`,
      );
    }
    if (path === '/basic/') {
      const received = request.headers.authorization === undefined ? 'no' : 'yes';
      return page(
        response,
        200,
        'HTTP Basic area',
        `${remoteUserLine(request)}
<p>Authorization header reached the app: <strong id="authorization-received">${received}</strong></p>`,
      );
    }
    if (path === '/ws-page') return wsPage(response);
    if (path === '/ws-page.js') {
      response.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'no-cache',
      });
      return void response.end(WS_PAGE_JS);
    }
    if (path === '/download') return download(url, request, response);
    page(response, 404, 'Not found', `<p>There is no page at <code>${escapeHtml(path)}</code>.</p>`);
  };
}

export async function startIntranetApp(options: IntranetAppOptions = {}): Promise<IntranetApp> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host)) {
    throw new Error(
      `the demo intranet app trusts identity headers and listens on loopback only, not on ${host}`,
    );
  }
  const handle = createHandler();
  // Keep-alive: Node keeps HTTP/1.1 connections open; the idle timeout outlasts a proxy's pool timeout.
  const server = http.createServer({ keepAlive: true, keepAliveTimeout: 65_000 }, (request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) json(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    const path = new URL(request.url ?? '/', 'http://intranet.invalid').pathname;
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const user = header(request, 'remote-user') ?? '(anonymous)';
    wss.handleUpgrade(request, socket, head, (client) => {
      client.on('message', (data, isBinary) => {
        if (isBinary) client.send(data, { binary: true });
        else client.send(`${user}: ${data.toString()}`);
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('intranet app: no TCP address');
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' } } });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be 0-65535, not ${values.port}`);
    process.exit(2);
  }
  const app = await startIntranetApp({ host: values.host, port }).catch((error: Error) => {
    console.error(error.message);
    process.exit(2);
  });
  console.log(`Contoso intranet demo app listening on ${app.url}`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
