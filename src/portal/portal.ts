// The user portal at /enroll, assembled: sign-in, the enrollment wizard, the user's home page and
// the administrators' pages, in one encapsulated fastify scope with its own HTML error pages, a
// per-address limit on form posts, and its own session cookie (a separate key from the gateway's).
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { EdgeCore } from '../core/edge-surface.ts';
import { MfaError, toMfaError } from '../core/errors.ts';
import { createNetworkList } from '../core/policy/networks.ts';
import type { Clock, Random } from '../core/ports.ts';
import { requestView } from '../http/request-view.ts';
import { createSessionCookies, importSessionKey } from '../http/session-cookie.ts';
import { sendStatic } from '../http/web-page.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { BASE, type PortalContext, portalRequest, render } from './context.ts';
import { createI18n, loadCatalogues } from './i18n.ts';
import { createPortalPages } from './pages.ts';
import { registerSelfServiceRoutes } from './self-service-routes.ts';
import { registerSignInRoutes } from './sign-in-routes.ts';

export interface PortalDeps {
  config: Readonly<Config>;
  core: PortalContext['core'] & Pick<EdgeCore, 'sessions'>;
  clock: Clock;
  random: Random;
  /** What the portal's cookie key is derived from (its own purpose): the store's key, or `edge.sessionKey`. */
  cookieKeySource: Uint8Array;
}

export async function createPortal(deps: PortalDeps) {
  const { config } = deps;
  const { portal } = config;
  const catalogues = loadCatalogues();
  if (!catalogues.has(portal.defaultLanguage))
    throw new MfaError('config.invalid', {
      detail: `portal.defaultLanguage: no catalogue portal/i18n/${portal.defaultLanguage}.json`,
    });
  const ctx: PortalContext = {
    config,
    core: deps.core,
    clock: deps.clock,
    cookies: createSessionCookies({
      key: await importSessionKey(deps.cookieKeySource, 'portal'),
      clock: deps.clock,
      random: deps.random,
      revocation: deps.core.sessions,
      settings: {
        cookieName: portal.session.cookieName,
        idleTimeoutSeconds: portal.session.idleTimeoutSeconds,
        maxAgeSeconds: portal.session.maxAgeSeconds,
        cacheSize: 1000,
        revocationCheckSeconds: config.gateway.session.revocationCheckSeconds,
      },
    }),
    pages: createPortalPages(),
    i18n: createI18n(catalogues, portal.defaultLanguage),
    trustedNetworks: createNetworkList(portal.trustedNetworks),
  };

  return {
    context: ctx,

    async register(app: FastifyInstance): Promise<void> {
      await app.register(
        async (scope) => {
          await scope.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
          await scope.register(fastifyRateLimit, {
            global: false,
            max: portal.rateLimitPerMinute,
            timeWindow: 60_000,
            keyGenerator: (request) => requestView(request.raw).clientAddress,
            errorResponseBuilder: () => new MfaError('rate_limited'),
          });
          // One bucket per client address for every form post of the portal; pages and files are free.
          const limitPosts = scope.rateLimit();
          scope.addHook('onRequest', async (request, reply) => {
            if (request.method === 'POST') await limitPosts.call(scope, request, reply);
          });
          scope.setErrorHandler(async (raw, request, reply) => {
            const fastifyStatus = (raw as { statusCode?: number }).statusCode;
            const error =
              !(raw instanceof MfaError) && fastifyStatus !== undefined && fastifyStatus < 500
                ? new MfaError('input.invalid', { detail: (raw as Error).message })
                : toMfaError(raw);
            const status = error.spec.httpStatus;
            request.log[status >= 500 ? 'error' : 'info'](
              { code: error.code, detail: error.detail, err: status >= 500 ? raw : undefined },
              'portal request failed',
            );
            const pr = await portalRequest(ctx, request).catch(() => undefined);
            if (error.code === 'auth.required' && request.method === 'GET')
              return reply.redirect(`${BASE}/login`, 303);
            if (!pr) return reply.status(status).send(error.publicMessage);
            return render(
              ctx,
              request,
              reply,
              pr,
              'error',
              { status, message: error.publicMessage, code: error.code, requestId: request.id },
              status,
            );
          });
          scope.get(`${BASE}/static/:name`, async (request, reply) => {
            const { name } = request.params as { name: string };
            return sendStatic(reply, name) || reply.status(404).send('Not found.');
          });
          registerSignInRoutes(scope, ctx);
          registerSelfServiceRoutes(scope, ctx);
          registerAdminRoutes(scope, ctx);
        },
        { prefix: '' },
      );
    },
  };
}

export type Portal = Awaited<ReturnType<typeof createPortal>>;
