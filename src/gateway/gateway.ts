// The gateway, assembled: the protected apps and their policy, session cookies, sign-in pages,
// forwarding and upgrades. `createGateway` is called once; every listener registers the same
// instance, so caches and held requests are shared across listeners.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type {} from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyReplyFrom from '@fastify/reply-from';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { EdgeCore } from '../core/edge-surface.ts';
import { createAccessPolicy, ruleFromApp } from '../core/policy/access-rules.ts';
import { createNetworkList } from '../core/policy/networks.ts';
import type { AuditSink, Clock, Random } from '../core/ports.ts';
import { createSessionCookies, importSessionKey } from '../http/session-cookie.ts';
import { compileApps } from './apps.ts';
import type { GatewayContext } from './context.ts';
import { createGate } from './gate.ts';
import { createHeldRequests } from './held-requests.ts';
import { registerLoginRoutes } from './login-routes.ts';
import { createPages } from './pages.ts';
import { registerProxyRoutes } from './proxy-routes.ts';
import { createUpgradeHandler } from './upgrade.ts';

export interface GatewayDeps {
  config: Readonly<Config>;
  authenticator: EdgeCore['authenticator'];
  sessions: EdgeCore['sessions'];
  audit: AuditSink;
  clock: Clock;
  random: Random;
  logger: FastifyBaseLogger;
  /** What the cookie key is derived from: the store's key, or on an edge node `edge.sessionKey`. */
  cookieKeySource: Uint8Array;
  /** Push approvals, when the mobile service runs. */
  push?: GatewayContext['push'];
}

export async function createGateway(deps: GatewayDeps) {
  const { config } = deps;
  const apps = compileApps(config.gateway);
  const policy = createAccessPolicy(
    apps.map((a) => ruleFromApp(a.config)),
    config.gateway.trustedNetworks,
  );
  const trustedProxies = createNetworkList(config.server.trustedProxies);
  const cookies = createSessionCookies({
    key: await importSessionKey(deps.cookieKeySource),
    clock: deps.clock,
    random: deps.random,
    revocation: deps.sessions,
    settings: config.gateway.session,
  });
  const { formIntercept } = config.gateway;
  const ctx: GatewayContext = {
    config,
    apps,
    policy,
    gate: createGate({ apps, policy, cookies }),
    cookies,
    authenticator: deps.authenticator,
    push: deps.push,
    outOfBandWaitMs: config.mobile.outOfBandWaitSeconds * 1000,
    audit: deps.audit,
    clock: deps.clock,
    pages: createPages(config.gateway.denialPage ? { denialPageFile: config.gateway.denialPage } : {}),
    held: createHeldRequests({ max: formIntercept.maxHeld, ttlMs: formIntercept.holdSeconds * 1000 }),
    logger: deps.logger,
    publicOrigin: new URL(new URL(config.server.publicUrl).origin),
    // The portal's cookie too: an app on the portal's host must never see a portal session.
    gatewayCookies: [
      cookies.cookieName(true),
      cookies.cookieName(false),
      `__Host-${config.portal.session.cookieName}`,
      config.portal.session.cookieName,
      '__Host-mfa_csrf',
      'mfa_csrf',
    ],
  };
  const upgrades = createUpgradeHandler(ctx, trustedProxies);
  const { upstream } = config.gateway;

  return {
    async register(app: FastifyInstance): Promise<void> {
      // At the top, not inside the proxy scope: the sign-in routes replay held login posts too.
      await app.register(fastifyReplyFrom, {
        undici: {
          connections: 128,
          pipelining: 1,
          keepAliveTimeout: 60_000,
          connect: { timeout: upstream.connectTimeoutMs },
          headersTimeout: upstream.timeoutMs,
          bodyTimeout: upstream.timeoutMs,
        },
        // Never replay a request on the app's behalf: a retried POST could act twice.
        retryMethods: [],
      });
      await app.register(async (pages) => {
        await pages.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
        registerLoginRoutes(pages, ctx);
      });
      await app.register(async (proxy) => registerProxyRoutes(proxy, ctx));
      app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        upgrades.onUpgrade(req, socket, head),
      );
    },

    close(): void {
      upgrades.close();
    },
  };
}

export type Gateway = Awaited<ReturnType<typeof createGateway>>;
