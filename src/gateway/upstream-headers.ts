// The request headers an app receives: hop-by-hop headers gone, the gateway's own cookies gone,
// every client-sent identity header gone in whatever spelling, then the identity the gateway
// vouches for and the X-Forwarded-* set added. Used for HTTP forwarding and upgrades alike.
import type { IncomingHttpHeaders } from 'node:http';
import type { Session } from '../http/session-cookie.ts';
import type { ProtectedApp } from './apps.ts';

/** RFC 9110 §7.6.1 connection-specific fields, plus the legacy ones proxies still meet. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const BUILT_IN_IDENTITY = ['remote-user', 'remote-groups', 'remote-email', 'remote-name'];

/**
 * One spelling for every variant a server might map to the same variable: case, `_` for `-`
 * (CGI and IIS turn both into HTTP_REMOTE_USER), and an `x-` prefix.
 */
export function identityKey(name: string): string {
  return name
    .toLowerCase()
    .replaceAll('_', '-')
    .replace(/^(?:x-)+/, '');
}

/** Header names repeat on every request: each is examined once (bounded, names are short). */
const keyCache = new Map<string, string>();
function cachedIdentityKey(lower: string): string {
  let key = keyCache.get(lower);
  if (key === undefined) {
    key = identityKey(lower);
    if (keyCache.size < 4096) keyCache.set(lower, key);
  }
  return key;
}

/** Per app (its configured names), computed once. */
const identitySets = new WeakMap<ProtectedApp, Set<string>>();
function identityNames(app: ProtectedApp): Set<string> {
  let set = identitySets.get(app);
  if (!set) {
    set = new Set([...BUILT_IN_IDENTITY, ...Object.values(app.identityHeaders).map(identityKey)]);
    identitySets.set(app, set);
  }
  return set;
}

export interface ForwardContext {
  app: ProtectedApp;
  session: Session | undefined;
  clientAddress: string;
  /** The peer that sent this request (a trusted proxy, or the client itself). */
  peerAddress: string;
  /** The X-Forwarded-For the trusted proxy sent, or undefined when the peer is not trusted. */
  trustedForwardedFor: string | undefined;
  scheme: 'http' | 'https';
  authority: string;
  /** Names of the gateway's own cookies, stripped from the Cookie header. */
  gatewayCookies: readonly string[];
  /** Keep Upgrade and Connection: the WebSocket tunnel needs them. */
  upgrade?: boolean;
}

function stripCookies(header: string, names: readonly string[]): string {
  return header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => {
      const eq = part.indexOf('=');
      const name = (eq < 0 ? part : part.slice(0, eq)).trim();
      return part !== '' && !names.includes(name);
    })
    .join('; ');
}

/** Header values the gateway adds never carry control characters, whatever the directory holds. */
function clean(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // Rare: only then is the string rebuilt.
    if (c < 0x20 || c === 0x7f)
      return [...value].filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f).join('');
  }
  return value;
}

export function upstreamHeaders(incoming: IncomingHttpHeaders, ctx: ForwardContext): Record<string, string> {
  const { app } = ctx;
  const identity = identityNames(app);
  const listedInConnection = incoming.connection
    ? new Set(
        String(incoming.connection)
          .split(',')
          .map((name) => name.trim().toLowerCase())
          .filter(Boolean),
      )
    : undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const keepForUpgrade = ctx.upgrade && (lower === 'upgrade' || lower === 'connection');
    if (!keepForUpgrade && (HOP_BY_HOP.has(lower) || listedInConnection?.has(lower))) continue;
    if (identity.has(cachedIdentityKey(lower))) continue;
    if (lower.startsWith('x-forwarded-') || lower === 'forwarded') continue;
    if (lower === 'authorization' && app.config.auth === 'basic' && !app.config.passAuthorization) continue;
    out[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (out.cookie !== undefined) {
    const rest = stripCookies(out.cookie, ctx.gatewayCookies);
    if (rest) out.cookie = rest;
    else delete out.cookie;
  }
  out['x-forwarded-for'] = ctx.trustedForwardedFor
    ? `${ctx.trustedForwardedFor}, ${ctx.peerAddress}`
    : ctx.peerAddress;
  out['x-forwarded-proto'] = ctx.scheme;
  out['x-forwarded-host'] = ctx.authority;
  if (app.config.preserveHost) out.host = ctx.authority;
  const { session } = ctx;
  if (session && session.level > 0) {
    out[app.identityHeaders.user] = clean(session.username);
    out[app.identityHeaders.groups] = clean(session.groups.join(','));
    if (session.email) out[app.identityHeaders.email] = clean(session.email);
    if (session.name) out[app.identityHeaders.name] = clean(session.name);
  }
  return out;
}

/** Response headers from the app that describe its connection to us, not ours to the client. */
export function downstreamHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}
