// The benchmark's upstream app: node:http, keep-alive, one fixed body of about 1 KB for every path,
// so that what is measured is the proxy in front of it. `/_bench/echo` answers the request headers
// it received instead (the parent checks through it that the gateway adds the identity and strips
// its cookie); the load never goes there.
import http from 'node:http';
import { announce, stopOnSignal } from './child.ts';

const BODY = Buffer.from(
  JSON.stringify({ ok: true, app: 'bench-upstream', filler: 'x'.repeat(1024 - 56) }).padEnd(1024, ' '),
);
const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'content-length': String(BODY.length),
};

const server = http.createServer((request, response) => {
  request.resume();
  if (request.url === '/_bench/echo') {
    const text = JSON.stringify({ url: request.url, headers: request.headers });
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    response.end(text);
    return;
  }
  response.writeHead(200, HEADERS);
  response.end(BODY);
});
// Longer than any run: the proxies' pools (undici keepAliveTimeout 60 s) keep their connections.
server.keepAliveTimeout = 75_000;

stopOnSignal(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('upstream: no TCP address');
  announce({ port: address.port, bodyBytes: BODY.length });
});
