// /_mfa/health: whether this node can serve sign-ins, for load balancers and monitoring. It names
// the checks and their state, never a secret, a host name or an error text.
import type { FastifyInstance } from 'fastify';

export interface HealthChecks {
  store(): Promise<void>;
  directory(): Promise<void>;
}

type State = 'ok' | 'failing';

/** Directory probes are cached briefly so a busy load balancer cannot hammer the domain controllers. */
const CACHE_MS = 5_000;

export type HealthStatus = 'ok' | 'degraded' | 'failing';

/**
 * The node's health: failing without the store, degraded without the directory. Directory probes
 * are cached (CACHE_MS); /_mfa/health and the SDK's /health read the same verdict.
 */
export function createHealthProbe(checks: HealthChecks) {
  let directoryCache: { at: number; state: State } | undefined;

  const probe = async (check: () => Promise<void>): Promise<State> => {
    try {
      await check();
      return 'ok';
    } catch {
      return 'failing';
    }
  };

  return async (): Promise<{ status: HealthStatus; checks: { store: State; directory: State } }> => {
    const now = Date.now();
    if (!directoryCache || now - directoryCache.at > CACHE_MS) {
      directoryCache = { at: now, state: await probe(checks.directory) };
    }
    const store = await probe(checks.store);
    const directory = directoryCache.state;
    const status = store === 'failing' ? 'failing' : directory === 'failing' ? 'degraded' : 'ok';
    return { status, checks: { store, directory } };
  };
}

export function registerHealth(app: FastifyInstance, checks: HealthChecks, version: string): void {
  const health = createHealthProbe(checks);
  app.get('/_mfa/health', async (_request, reply) => {
    const { status, checks: states } = await health();
    reply.header('cache-control', 'no-store');
    reply.status(status === 'failing' ? 503 : 200);
    return { status, version, checks: states };
  });
}
