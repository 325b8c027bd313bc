// The core's services on an edge node: each method of the edge surface becomes a call to the
// internal node's SDK, so the portal, the gateway and the mobile service run unchanged on top.
import {
  EDGE_SIGNAL_ARGUMENT,
  EDGE_SURFACE,
  EDGE_WAIT_ARGUMENT,
  type EdgeCore,
  type EdgeMethod,
  type EdgeService,
} from '../core/edge-surface.ts';
import type { SdkClient } from './sdk-client.ts';

type RemoteMethod = (...args: unknown[]) => Promise<unknown>;

function remoteMethod(client: SdkClient, method: EdgeMethod): RemoteMethod {
  const signalAt = EDGE_SIGNAL_ARGUMENT[method];
  const waitAt = EDGE_WAIT_ARGUMENT[method];
  return (...args) => {
    // A signal stays here: it aborts the call, and the internal node notices the edge hang up.
    const signal = signalAt === undefined ? undefined : (args[signalAt] as AbortSignal | undefined);
    const sent = signalAt === undefined ? args : args.map((arg, i) => (i === signalAt ? undefined : arg));
    const waitMs = waitAt === undefined ? undefined : Number(args[waitAt]);
    return client.call(method, sent, {
      ...(signal ? { signal } : {}),
      ...(waitMs !== undefined && Number.isFinite(waitMs) ? { waitMs } : {}),
    });
  };
}

export function createRemoteCore(client: SdkClient): EdgeCore {
  const services: Record<string, Record<string, RemoteMethod>> = {};
  for (const [service, methods] of Object.entries(EDGE_SURFACE) as [EdgeService, readonly string[]][]) {
    services[service] = Object.fromEntries(
      methods.map((name) => [name, remoteMethod(client, `${service}.${name}` as EdgeMethod)]),
    );
  }
  const auditQuery = remoteMethod(client, 'auditQuery');
  // The surface's names and the core's types are one list (edge-surface.ts); this is where they meet.
  return { ...services, auditQuery } as unknown as EdgeCore;
}
