// What an edge node (a DMZ node without directory or store) may ask of the internal node's core:
// exactly the calls the portal, the gateway's sign-in pages and the mobile service make, no more.
// The internal node's SDK serves this list and the edge's client implements it, so both ends read
// the same names, and the wire encoding of their arguments and results lives here once.
import type { Core } from './create-core.ts';
import type { SdkScope } from './ports.ts';

export const EDGE_SURFACE = {
  authenticator: [
    'startLogin',
    'completeLogin',
    'completeWithPush',
    'fallbackQuestions',
    'completeWithAnswers',
  ],
  enrollment: [
    'overview',
    'changeAllowed',
    'firstEnrollmentAllowed',
    'stepUp',
    'newTotpSeed',
    'confirmTotp',
    'importOathToken',
    'removeFactor',
    'setPhones',
    'setMethod',
    'setLanguage',
    'setPin',
    'setSecurityAnswers',
    'issueUserBypass',
    'issueActivationCode',
    'recentSignIns',
    'activateDevice',
  ],
  userAdmin: [
    'search',
    'overview',
    'add',
    'updateSettings',
    'enable',
    'disable',
    'reset',
    'unblock',
    'issueBypass',
    'issueEnrollmentWindow',
  ],
  push: ['waitForAnswer', 'authenticateDevice', 'requestsForDevice', 'answer', 'subscribe', 'forgetDevice'],
  sessions: ['isRevoked', 'revokeSession'],
  audit: ['record'],
} as const;

export type EdgeService = keyof typeof EDGE_SURFACE;
type MethodsOf<S extends EdgeService> = (typeof EDGE_SURFACE)[S][number];

/**
 * The core as the portal, the gateway's pages and the mobile service use it, and so as an edge node
 * offers it remotely: those adapters are typed against this, so a new call must join the list.
 */
export interface EdgeCore {
  authenticator: Remote<Pick<Core['authenticator'], MethodsOf<'authenticator'>>>;
  enrollment: Remote<Pick<Core['enrollment'], MethodsOf<'enrollment'>>>;
  userAdmin: Remote<Pick<Core['userAdmin'], MethodsOf<'userAdmin'>>>;
  push: Remote<Pick<Core['push'], MethodsOf<'push'>>>;
  sessions: Remote<Pick<Core['sessions'], MethodsOf<'sessions'>>>;
  audit: Remote<Pick<Core['audit'], MethodsOf<'audit'>>>;
  auditQuery: Core['auditQuery'];
}

/** Every method may be remote, so every method answers with a promise (the core's do already). */
type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<R> : never;
};

/** `service.method`, or `auditQuery`. */
export type EdgeMethod = { [S in EdgeService]: `${S}.${MethodsOf<S>}` }[EdgeService] | 'auditQuery';

export const EDGE_METHODS: readonly EdgeMethod[] = [
  ...Object.entries(EDGE_SURFACE).flatMap(([service, methods]) =>
    methods.map((method) => `${service}.${method}` as EdgeMethod),
  ),
  'auditQuery',
];

/**
 * What each call needs beyond the `edge` scope. The portal's administrator pages act as
 * administrators, so an edge serving them needs an account that also has `admin`.
 */
export function edgeScopesOf(method: EdgeMethod): SdkScope[] {
  return method.startsWith('userAdmin.') || method === 'auditQuery' ? ['edge', 'admin'] : ['edge'];
}

/** Long polls: the argument at this index is an AbortSignal, which cannot cross the wire. */
export const EDGE_SIGNAL_ARGUMENT: Partial<Record<EdgeMethod, number>> = {
  'push.waitForAnswer': 2,
  'push.requestsForDevice': 2,
};

/** How long a long poll may hold the call: its timeout argument (milliseconds). */
export const EDGE_WAIT_ARGUMENT: Partial<Record<EdgeMethod, number>> = {
  'push.waitForAnswer': 1,
  'push.requestsForDevice': 1,
};

/** Calls that read or wait and change nothing: not written to the audit log one by one. */
export const EDGE_QUIET: ReadonlySet<EdgeMethod> = new Set<EdgeMethod>([
  'push.waitForAnswer',
  'push.requestsForDevice',
  'push.authenticateDevice',
  'sessions.isRevoked',
  'enrollment.overview',
  'enrollment.changeAllowed',
  'enrollment.firstEnrollmentAllowed',
  'enrollment.recentSignIns',
  'authenticator.fallbackQuestions',
  'audit.record',
]);

// ---------------------------------------------------------------- wire encoding

const UNDEFINED = '$undefined';
const BYTES = '$bytes';

/**
 * JSON that keeps what plain JSON loses in the core's signatures: `undefined` in argument lists
 * (an optional argument must stay absent, not become null) and byte arrays.
 */
export function encodeEdgeValue(value: unknown): unknown {
  if (value === undefined) return { [UNDEFINED]: true };
  if (value instanceof Uint8Array) return { [BYTES]: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(encodeEdgeValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value))
      if (child !== undefined) out[key] = encodeEdgeValue(child);
    return out;
  }
  return value;
}

export function decodeEdgeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeEdgeValue);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && record[UNDEFINED] === true) return undefined;
    if (keys.length === 1 && typeof record[BYTES] === 'string')
      return new Uint8Array(Buffer.from(record[BYTES], 'base64'));
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(record)) out[key] = decodeEdgeValue(child);
    return out;
  }
  return value;
}
