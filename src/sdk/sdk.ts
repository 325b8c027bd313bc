// The SDK at /sdk/v1, in its own fastify scope: every call is authenticated as a service account
// (certificate, bearer token or Basic), checked against the account's networks and the route's
// scope, rate limited per account, and audited. Handlers only translate to the core.
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EdgeCore } from '../core/edge-surface.ts';
import { MfaError } from '../core/errors.ts';
import { createNetworkList } from '../core/policy/networks.ts';
import type { Clock, ServiceAccount } from '../core/ports.ts';
import { requestView } from '../http/request-view.ts';
import { type AuthenticationCore, authenticationRoutes } from './auth-routes.ts';
import { callerOf } from './credentials.ts';
import { edgeRoutes } from './edge-routes.ts';
import { openApiDocument } from './openapi.ts';
import type { SdkRoute } from './route.ts';
import { type SdkCore, sdkRoutes } from './routes.ts';

export const SDK_PREFIX = '/sdk/v1';

export interface SdkDeps {
  /** The SDK's own operations, and the core surface edge nodes call. */
  core: SdkCore & EdgeCore & AuthenticationCore;
  clock: Clock;
  publicUrl: string;
  version: string;
  rateLimitPerMinute: number;
  /** 'ok', 'degraded' or 'failing', as /_mfa/health says. */
  health: () => Promise<string>;
}

export function createSdk(deps: SdkDeps) {
  const { core, clock } = deps;
  const routes = [
    ...sdkRoutes(core, { publicUrl: deps.publicUrl, health: deps.health }),
    ...authenticationRoutes(core),
    ...edgeRoutes(core),
  ];
  const document = openApiDocument(routes, deps.version, deps.publicUrl);
  const callers = new WeakMap<FastifyRequest, ServiceAccount>();
  const auditNames = new WeakMap<FastifyRequest, string>();
  const networks = new Map<string, ReturnType<typeof createNetworkList>>();

  const routeOf = (request: FastifyRequest) =>
    (request.routeOptions.config as { sdkRoute?: SdkRoute } | undefined)?.sdkRoute;

  function allowedFrom(account: ServiceAccount, address: string): boolean {
    if (account.networks.length === 0) return true;
    let list = networks.get(account.id);
    if (!list) {
      list = createNetworkList(account.networks);
      networks.set(account.id, list);
    }
    return list.contains(address);
  }

  /** Credentials, then networks, then scope: 401 says nothing about which accounts exist. */
  async function admit(request: FastifyRequest): Promise<void> {
    const route = routeOf(request);
    if (!route || route.scope === 'public') return;
    const account = await callerOf(request, core.accounts);
    if (!account) throw new MfaError('auth.required', { detail: 'no valid SDK credentials' });
    callers.set(request, account);
    const address = requestView(request.raw).clientAddress;
    if (!allowedFrom(account, address))
      throw new MfaError('auth.forbidden', { detail: `${account.name} may not call from ${address}` });
    if (route.scope !== null && !account.scopes.includes(route.scope))
      throw new MfaError('auth.forbidden', { detail: `${account.name} lacks the scope ${route.scope}` });
  }

  async function audit(request: FastifyRequest, status: number): Promise<void> {
    const route = routeOf(request);
    const account = callers.get(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const reason =
      route?.auditReason && status < 400 ? route.auditReason(body) : (route?.operationId ?? 'unknown');
    if (reason === null) return;
    await core.audit.record({
      at: clock.now(),
      type: 'sdk.call',
      outcome: status < 400 ? 'success' : 'failure',
      channel: 'sdk',
      username:
        auditNames.get(request) ?? (request.params as { username?: string } | undefined)?.username ?? null,
      clientAddress: requestView(request.raw).clientAddress,
      reason,
      actor: account ? `sdk:${account.name}` : null,
      application: account?.name ?? null,
      details: { method: request.method, status },
    });
  }

  return {
    routes,
    document,
    async register(app: FastifyInstance): Promise<void> {
      await app.register(
        async (scope) => {
          await scope.register(fastifyRateLimit, {
            global: false,
            max: deps.rateLimitPerMinute,
            timeWindow: 60_000,
            keyGenerator: (request) => {
              const account = callers.get(request);
              return account ? `account:${account.id}` : `address:${requestView(request.raw).clientAddress}`;
            },
            errorResponseBuilder: () => new MfaError('rate_limited'),
          });
          const limit = scope.rateLimit();
          scope.addHook('onRequest', async (request, reply) => {
            reply.header('cache-control', 'no-store');
            await admit(request);
            // An edge node carries every user of the DMZ: its users are limited by the core's
            // regulation and the edge's own per-address limits, not by one account's budget.
            if (!callers.get(request)?.scopes.includes('edge')) await limit.call(scope, request, reply);
          });
          scope.addHook('onResponse', async (request, reply) => {
            const route = routeOf(request);
            // The document, health and unknown paths are not calls of an operation.
            if (!route || route.scope === 'public') return;
            await audit(request, reply.statusCode).catch((error: unknown) =>
              request.log.error({ err: error }, 'SDK call not audited'),
            );
          });
          scope.get('/openapi.json', async () => document);
          // Everything under the prefix is the SDK's: an unknown path is a JSON 404, never the gateway's.
          scope.all('/*', async () => {
            throw new MfaError('not_found');
          });
          for (const route of routes) {
            scope.route({
              method: route.method,
              url: route.url,
              config: { sdkRoute: route },
              schema: {
                ...(route.params ? { params: route.params } : {}),
                ...(route.querystring ? { querystring: route.querystring } : {}),
                ...(route.body ? { body: route.body } : {}),
              },
              handler: async (request, reply) => {
                const account = callers.get(request);
                const clientAddress = requestView(request.raw).clientAddress;
                const result = await route.handle({
                  account: account as ServiceAccount,
                  ctx: { channel: 'sdk', clientAddress, application: account?.name ?? 'sdk' },
                  admin: {
                    actor: `sdk:${account?.name ?? 'public'}`,
                    channel: 'sdk',
                    clientAddress,
                    application: account?.name ?? 'sdk',
                  },
                  params: (request.params ?? {}) as Record<string, string>,
                  query: (request.query ?? {}) as Record<string, unknown>,
                  body: (request.body ?? {}) as Record<string, unknown>,
                  request,
                  reply,
                  auditUsername: (name) => auditNames.set(request, name),
                });
                reply.status(route.success.status);
                return route.success.status === 204 ? reply.send() : result;
              },
            });
          }
        },
        { prefix: SDK_PREFIX },
      );
    },
  };
}

export type Sdk = ReturnType<typeof createSdk>;
