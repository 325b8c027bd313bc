// Test helper: a recording upstream for the gateway's security tests. It records every request and
// every WebSocket upgrade exactly as it arrived (method, raw URL, headers), so a test can prove what
// reached the app, or that nothing did.
import http from 'node:http';
import { WebSocketServer } from 'ws';

export type RecordedHeaders = Record<string, string | string[] | undefined>;

export interface RecordedRequest {
  method: string;
  /** The request target as sent on the wire, not normalised. */
  url: string;
  headers: RecordedHeaders;
  /** Header names and values in arrival order and original spelling (`remote_user`, `X-Remote-User` ...). */
  rawHeaders: string[];
}

export interface RecordedUpgrade {
  url: string;
  headers: RecordedHeaders;
  rawHeaders: string[];
}

export interface Upstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  upgrades: RecordedUpgrade[];
  close(): Promise<void>;
}

const MAX_SLOW_MS = 120_000;

/**
 * Starts on 127.0.0.1, port 0. Every request is recorded before its body is read; the body is drained,
 * then the answer is 200 `{ ok: true, url, headers }` (after `ms` milliseconds on `/slow?ms=N`).
 * WebSocket upgrades on any path are recorded and their messages echoed back unchanged.
 */
export async function startUpstream(): Promise<Upstream> {
  const requests: RecordedRequest[] = [];
  const upgrades: RecordedUpgrade[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((request, response) => {
    const url = request.url ?? '';
    requests.push({
      method: request.method ?? '',
      url,
      headers: { ...request.headers },
      rawHeaders: [...request.rawHeaders],
    });
    const answer = () => {
      if (response.destroyed) return;
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify({ ok: true, url, headers: request.headers }));
    };
    request.on('error', () => response.destroy());
    request.on('end', () => {
      const { pathname, searchParams } = new URL(url, 'http://upstream.invalid');
      const ms = pathname === '/slow' ? Math.min(Number(searchParams.get('ms')) || 0, MAX_SLOW_MS) : 0;
      if (ms <= 0) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, ms);
      timers.add(timer);
      response.on('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
      });
    });
    request.resume();
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    upgrades.push({
      url: request.url ?? '',
      headers: { ...request.headers },
      rawHeaders: [...request.rawHeaders],
    });
    wss.handleUpgrade(request, socket, head, (client) => {
      client.on('message', (data, isBinary) => client.send(data, { binary: isBinary }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('upstream: no TCP address');

  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    requests,
    upgrades,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const client of wss.clients) client.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
