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

export function registerHealth(app: FastifyInstance, checks: HealthChecks, version: string): void {
  let directoryCache: { at: number; state: State } | undefined;

  const probe = async (check: () => Promise<void>): Promise<State> => {
    try {
      await check();
      return 'ok';
    } catch {
      return 'failing';
    }
  };

  app.get('/_mfa/health', async (_request, reply) => {
    const now = Date.now();
    if (!directoryCache || now - directoryCache.at > CACHE_MS) {
      directoryCache = { at: now, state: await probe(checks.directory) };
    }
    const store = await probe(checks.store);
    const directory = directoryCache.state;
    const status = store === 'failing' ? 'failing' : directory === 'failing' ? 'degraded' : 'ok';
    reply.header('cache-control', 'no-store');
    reply.status(status === 'failing' ? 503 : 200);
    return { status, version, checks: { store, directory } };
  });
}
