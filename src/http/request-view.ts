// What the service knows about a request, computed once when it arrives (in fastify's rewriteUrl,
// or at the start of an upgrade): the framing check, the canonical host and path, and the client
// address and scheme through the trusted proxies. Everything after reads this, never the raw URL.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { MfaError, toMfaError } from '../core/errors.ts';
import type { NetworkList } from '../core/policy/networks.ts';
import { type CanonicalRequest, canonicalRequest, checkFraming } from './canonical-request.ts';
import { resolveClient } from './client-address.ts';

/** Where fastify is sent for a request the gateway refused while making it canonical. */
export const INVALID_REQUEST_PATH = '/_mfa/invalid-request';

export interface RequestView {
  canonical: CanonicalRequest;
  clientAddress: string;
  scheme: 'http' | 'https';
  /** The socket peer: the client, or the trusted proxy in front of it. */
  peerAddress: string;
  viaProxy: boolean;
  /** The X-Forwarded-For a trusted proxy sent (passed on with the peer appended). */
  trustedForwardedFor: string | undefined;
}

const views = new WeakMap<IncomingMessage, RequestView | MfaError>();

export function prepareRequest(raw: IncomingMessage, trustedProxies: NetworkList): RequestView | MfaError {
  const known = views.get(raw);
  if (known) return known;
  let view: RequestView | MfaError;
  try {
    checkFraming({ method: raw.method ?? '', rawHeaders: raw.rawHeaders, httpVersion: raw.httpVersion });
    const socketScheme = (raw.socket as TLSSocket).encrypted ? 'https' : 'http';
    const client = resolveClient({
      socketAddress: raw.socket.remoteAddress,
      forwardedFor: raw.headers['x-forwarded-for'],
      forwardedProto: raw.headers['x-forwarded-proto'],
      trustedProxies,
      socketScheme,
    });
    const canonical = canonicalRequest({
      rawUrl: raw.url ?? '',
      hostHeader: raw.headers.host,
      scheme: client.scheme,
    });
    const forwardedFor = raw.headers['x-forwarded-for'];
    view = {
      canonical,
      clientAddress: client.address,
      scheme: client.scheme,
      peerAddress: (raw.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      viaProxy: client.viaProxy,
      trustedForwardedFor:
        client.viaProxy && forwardedFor
          ? Array.isArray(forwardedFor)
            ? forwardedFor.join(', ')
            : forwardedFor
          : undefined,
    };
  } catch (error) {
    view = error instanceof MfaError ? error : toMfaError(error);
  }
  views.set(raw, view);
  return view;
}

/** The view prepared for this request; a request that was never prepared is refused, not guessed. */
export function requestView(raw: IncomingMessage): RequestView {
  const view = views.get(raw);
  if (!view) throw new MfaError('input.invalid', { detail: 'request was not prepared' });
  if (view instanceof MfaError) throw view;
  return view;
}
