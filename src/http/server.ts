// The public HTTP(S) listener: fastify with the error mapping, the built-in routes and, when given,
// the gateway (which owns every path but /_mfa/health). One instance per listener.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { NetworkList } from '../core/policy/networks.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { installErrorHandler } from './error-handler.ts';
import { type HealthChecks, registerHealth } from './health.ts';
import { INVALID_REQUEST_PATH, prepareRequest } from './request-view.ts';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
}

/** With a client CA, certificates are verified but not required: the SDK reads the verdict. */
function httpsOptions(tls: TlsFiles) {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.clientCaFile
      ? { ca: readFileSync(tls.clientCaFile), requestCert: true, rejectUnauthorized: false }
      : {}),
  };
}

export async function buildHttpServer(deps: {
  /** What /_mfa/health probes: the store and directory, or on an edge node the internal node. */
  health: HealthChecks;
  logger: FastifyBaseLogger;
  /** Proxies whose X-Forwarded-For is believed, for every request's client address. */
  trustedProxies: NetworkList;
  gateway?: Gateway;
  /** The user portal at /enroll; registered before the gateway's catch-all. */
  portal?: { register(app: FastifyInstance): Promise<void> };
  /** The mobile service at /mobile (API and web authenticator); also before the gateway. */
  mobile?: { register(app: FastifyInstance): Promise<void> };
  /** The SDK at /sdk/v1; before the gateway too. */
  sdk?: { register(app: FastifyInstance): Promise<void> };
  tls?: TlsFiles;
}): Promise<FastifyInstance> {
  const { gateway, tls } = deps;
  const options = {
    loggerInstance: deps.logger,
    // Client addresses come from the gateway's own trusted-proxy walk, never from fastify's.
    trustProxy: false,
    bodyLimit: 64 * 1024,
    // Shown on error pages as the help-desk reference: random, so it is unique across restarts
    // and nodes and says nothing about traffic.
    genReqId: () => randomUUID().slice(0, 13),
    // Every request is made canonical once, on arrival (DESIGN §6 rule 3): routes match the
    // canonical path, and a request that has none is routed to the 400 page.
    rewriteUrl(raw: IncomingMessage): string {
      const view = prepareRequest(raw, deps.trustedProxies);
      return view instanceof Error ? INVALID_REQUEST_PATH : `${view.canonical.path}${view.canonical.query}`;
    },
    ...(tls ? { https: httpsOptions(tls) } : {}),
  };
  // HTTP and HTTPS instances have the same API; fastify's types tell them apart only by the server.
  const app = (Fastify as unknown as (o: typeof options) => FastifyInstance)(options);
  installErrorHandler(app);
  registerHealth(app, deps.health, VERSION);
  // Cookies for every page adapter (gateway sign-in, portal); registered once at the root.
  await app.register(fastifyCookie);
  if (deps.portal) await deps.portal.register(app);
  if (deps.mobile) await deps.mobile.register(app);
  if (deps.sdk) await deps.sdk.register(app);
  if (gateway) await gateway.register(app);
  return app;
}

/** A plain listener whose only job is to send browsers to the HTTPS one, keeping host and path. */
export function buildRedirectServer(logger: FastifyBaseLogger, httpsPort: number): FastifyInstance {
  const app = Fastify({ loggerInstance: logger });
  app.all('/*', async (request, reply) => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '');
    if (!/^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/i.test(host)) return reply.status(400).send('Bad request.');
    const port = httpsPort === 443 ? '' : `:${httpsPort}`;
    return reply.redirect(`https://${host}${port}${request.url}`, 301);
  });
  return app;
}
