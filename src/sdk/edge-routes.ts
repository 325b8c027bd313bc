// The SDK operation an edge node (role: edge, in the DMZ) calls for everything it cannot do without
// the directory and the store: one core call from the list in core/edge-surface.ts, with its
// arguments and result in the edge encoding. The internal node keeps every decision; the edge
// reports the end user's address, which the core uses as it would from its own portal.
import Type from 'typebox';
import {
  decodeEdgeValue,
  EDGE_METHODS,
  EDGE_QUIET,
  EDGE_SIGNAL_ARGUMENT,
  EDGE_WAIT_ARGUMENT,
  type EdgeCore,
  type EdgeMethod,
  edgeScopesOf,
  encodeEdgeValue,
} from '../core/edge-surface.ts';
import { MfaError } from '../core/errors.ts';
import type { AuditEvent } from '../core/ports.ts';
import { clientGone } from '../http/waiting-request.ts';
import type { SdkRoute } from './route.ts';

/** The longest an edge's long poll may hold a call (the mobile API and push pages wait less). */
export const EDGE_MAX_WAIT_MS = 60_000;

const EdgeCallBody = Type.Object(
  {
    method: Type.Enum(EDGE_METHODS as EdgeMethod[], {
      description: '`service.method` from the edge surface',
    }),
    args: Type.Array(Type.Unknown(), { maxItems: 8, description: 'Arguments in the edge encoding' }),
  },
  { additionalProperties: false },
);

export function edgeRoutes(core: EdgeCore): SdkRoute[] {
  const call = (method: EdgeMethod, args: unknown[]): Promise<unknown> => {
    if (method === 'auditQuery') return core.auditQuery(args[0] as Parameters<EdgeCore['auditQuery']>[0]);
    const [service, name] = method.split('.') as [keyof EdgeCore, string];
    const target = core[service] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    return (target[name] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
  };

  return [
    {
      method: 'POST',
      url: '/edge/calls',
      operationId: 'edgeCall',
      summary: 'One core call by an edge node on behalf of its portal, gateway or mobile service',
      tag: 'edge',
      scope: 'edge',
      body: EdgeCallBody,
      success: { status: 200, schema: Type.Object({ result: Type.Unknown() }) },
      auditReason: (body) => {
        const method = body.method as EdgeMethod;
        return EDGE_QUIET.has(method) ? null : `edgeCall:${method}`;
      },
      handle: async ({ account, body, reply }) => {
        const method = body.method as EdgeMethod;
        const missing = edgeScopesOf(method).find((scope) => !account.scopes.includes(scope));
        if (missing)
          throw new MfaError('auth.forbidden', {
            detail: `${account.name} lacks the scope ${missing} for ${method}`,
          });
        const args = (body.args as unknown[]).map(decodeEdgeValue);
        const waitAt = EDGE_WAIT_ARGUMENT[method];
        if (waitAt !== undefined) {
          const wait = args[waitAt];
          if (typeof wait !== 'number' || !Number.isFinite(wait) || wait < 0 || wait > EDGE_MAX_WAIT_MS)
            throw new MfaError('input.invalid', {
              field: `body.args.${waitAt}`,
              detail: 'a wait of 0..60000 ms',
            });
        }
        const signalAt = EDGE_SIGNAL_ARGUMENT[method];
        // The edge hangs up when its user left the page: the long poll ends with it.
        if (signalAt !== undefined) args[signalAt] = clientGone(reply);
        if (method === 'audit.record') args[0] = fromEdge(args[0], account.name);
        return { result: encodeEdgeValue(await call(method, args)) };
      },
    },
  ];
}

/** Events an edge writes say so: the audit log tells its own events from the edge's. */
function fromEdge(event: unknown, edge: string): AuditEvent {
  if (event === null || typeof event !== 'object')
    throw new MfaError('input.invalid', { field: 'body.args.0' });
  const given = event as AuditEvent;
  return { ...given, details: { ...(given.details ?? {}), edge } };
}
