// WebSocket and other upgrades: the same canonical request and the same gate as HTTP, then a
// tunnel to the app through http-proxy-3. Anything but a clean "forward" closes the socket with a
// short HTTP answer; the app never sees the upgrade.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import type { NetworkList } from '../core/policy/networks.ts';
import { prepareRequest } from '../http/request-view.ts';
import { forwardContext, type GatewayContext } from './context.ts';
import { upstreamHeaders } from './upstream-headers.ts';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  502: 'Bad Gateway',
};

function refuse(socket: Duplex, status: number): void {
  if (socket.writable)
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export function createUpgradeHandler(ctx: GatewayContext, trustedProxies: NetworkList) {
  const proxy = createProxyServer({ ws: true, xfwd: false });
  proxy.on('error', (error, _req, socket) => {
    ctx.logger.warn({ err: error }, 'upgrade tunnel failed');
    if (socket && 'destroy' in socket) refuse(socket as Duplex, 502);
  });

  async function handle(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const view = prepareRequest(req, trustedProxies);
    if (view instanceof Error) return refuse(socket, 400);
    const verdict = await ctx.gate.check(view, req.method ?? 'GET', req.headers.cookie);
    if (verdict.kind === 'sign_in') return refuse(socket, 401);
    if (verdict.kind !== 'forward' || !verdict.app.config.websocket || !verdict.app.upstreamOrigin)
      return refuse(socket, 403);
    const { app, session } = verdict;
    req.headers = upstreamHeaders(req.headers, forwardContext(ctx, view, app, session, true));
    // What was checked is what is forwarded: the canonical path, not the raw one.
    req.url = `${view.canonical.path}${view.canonical.query}`;
    proxy.ws(req, socket, head, {
      target: `${app.upstreamOrigin}${app.upstreamBasePath}`,
      changeOrigin: !app.config.preserveHost,
    });
  }

  return {
    onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      handle(req, socket, head).catch((error: unknown) => {
        ctx.logger.error({ err: error }, 'upgrade failed');
        refuse(socket, 403);
      });
    },
    close: () => proxy.close(),
  };
}
