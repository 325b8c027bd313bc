// The mobile service, assembled: the web authenticator's pages at /mobile/app and its API at
// /mobile/v1, in one encapsulated fastify scope with a per-address limit on the API's writes.
// Nothing here decides anything: activation, answers and device proofs are the core's.
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { MfaError } from '../core/errors.ts';
import { requestView } from '../http/request-view.ts';
import { registerMobileApiRoutes } from './api-routes.ts';
import { registerMobileAppRoutes } from './app-routes.ts';
import type { MobileContext } from './context.ts';

export interface MobileDeps extends MobileContext {
  /** Activation attempts and answers per client address per minute. */
  rateLimitPerMinute: number;
}

export function createMobileService(deps: MobileDeps) {
  const { rateLimitPerMinute, ...ctx } = deps;
  return {
    async register(app: FastifyInstance): Promise<void> {
      await app.register(async (scope) => {
        await scope.register(fastifyRateLimit, {
          global: false,
          max: rateLimitPerMinute,
          timeWindow: 60_000,
          keyGenerator: (request) => requestView(request.raw).clientAddress,
          errorResponseBuilder: () => new MfaError('rate_limited'),
        });
        // Guessing activation codes or flooding answers is bounded per address; long polls are not writes.
        const limitWrites = scope.rateLimit();
        scope.addHook('onRequest', async (request, reply) => {
          if (request.method !== 'GET' && request.method !== 'HEAD')
            await limitWrites.call(scope, request, reply);
        });
        registerMobileApiRoutes(scope, ctx);
        registerMobileAppRoutes(scope);
      });
    },
  };
}

export type MobileService = ReturnType<typeof createMobileService>;
