// What every gateway route shares: the config, the core services it calls, the session cookies,
// and the few helpers that write answers (pages with their security headers, cookies, redirects).
import type {} from '@fastify/cookie';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { EdgeCore } from '../core/edge-surface.ts';
import { type ErrorCode, MfaError } from '../core/errors.ts';
import type { createAccessPolicy } from '../core/policy/access-rules.ts';
import type { AuditSink, Clock, RequestContext } from '../core/ports.ts';
import type { PushApprovals } from '../core/push/push-approvals.ts';
import type { RequestView } from '../http/request-view.ts';
import type { Session, SessionCookies } from '../http/session-cookie.ts';
import { PAGE_HEADERS } from '../http/web-page.ts';
import type { ProtectedApp } from './apps.ts';
import type { Gate } from './gate.ts';
import type { HeldRequests } from './held-requests.ts';
import type { PageData, PageName, Pages } from './pages.ts';
import type { ForwardContext } from './upstream-headers.ts';

export interface GatewayContext {
  config: Readonly<Config>;
  apps: readonly ProtectedApp[];
  policy: ReturnType<typeof createAccessPolicy>;
  gate: Gate;
  cookies: SessionCookies;
  authenticator: EdgeCore['authenticator'];
  audit: AuditSink;
  clock: Clock;
  pages: Pages;
  held: HeldRequests;
  logger: FastifyBaseLogger;
  /** `scheme://host[:port]` of server.publicUrl, lower case: where `/enroll` lives. */
  publicOrigin: URL;
  /** The gateway's own cookies (both spellings), never passed to an app; fixed at start. */
  gatewayCookies: readonly string[];
  /** Waiting for push answers (the push page, Basic out of band); absent without the mobile service. */
  push: Pick<PushApprovals, 'waitForAnswer'> | undefined;
  /** How long a Basic sign-in holds for the phone (`mobile.outOfBandWaitSeconds`). */
  outOfBandWaitMs: number;
}

export function sendPage<N extends PageName>(
  ctx: GatewayContext,
  reply: FastifyReply,
  status: number,
  name: N,
  data: PageData[N],
): FastifyReply {
  return reply.status(status).headers(PAGE_HEADERS).send(ctx.pages.render(name, data));
}

export function sendErrorPage(
  ctx: GatewayContext,
  reply: FastifyReply,
  status: 400 | 404 | 500 | 502 | 503 | 504,
  requestId: string,
): FastifyReply {
  const texts: Record<number, [string, string]> = {
    400: ['Bad request', 'The request was not understood.'],
    404: ['Not found', 'There is nothing here.'],
    500: ['Something went wrong', 'The sign-in service failed. Please try again.'],
    502: [
      'The application is not answering',
      'The application behind this address is not reachable. Please try again later.',
    ],
    503: ['Service unavailable', 'The sign-in service is unavailable. Please try again later.'],
    504: ['The application took too long', 'The application did not answer in time. Please try again later.'],
  };
  const [title, message] = texts[status] ?? ['Error', 'The request failed.'];
  return sendPage(ctx, reply, status, 'error', { status, title, message, requestId });
}

export function sendDenied(
  ctx: GatewayContext,
  reply: FastifyReply,
  requestId: string,
  message = 'You do not have access to this application.',
): FastifyReply {
  return sendPage(ctx, reply, 403, 'denied', { message, requestId, signOutUrl: '/_mfa/logout' });
}

/** The forwarding context of one request: who the client is, as the gateway established it. */
export function forwardContext(
  ctx: GatewayContext,
  view: RequestView,
  app: ProtectedApp,
  session: Session | undefined,
  upgrade = false,
): ForwardContext {
  return {
    app,
    session,
    clientAddress: view.clientAddress,
    peerAddress: view.peerAddress,
    trustedForwardedFor: view.trustedForwardedFor,
    scheme: view.scheme,
    authority: view.canonical.authority,
    gatewayCookies: ctx.gatewayCookies,
    upgrade,
  };
}

/** Who a sign-in proved, as the session records it (the directory's view of the user). */
export function sessionIdentity(
  outcome: { username: string; directoryUser: { groups: string[]; email?: string; displayName?: string } },
  view: RequestView,
) {
  return {
    username: outcome.username,
    host: view.canonical.authority,
    groups: outcome.directoryUser.groups,
    email: outcome.directoryUser.email ?? null,
    name: outcome.directoryUser.displayName ?? null,
  };
}

export function requestContext(view: RequestView, app: ProtectedApp | undefined): RequestContext {
  return { channel: 'web', clientAddress: view.clientAddress, application: app?.config.name ?? 'gateway' };
}

export function setSessionCookie(
  ctx: GatewayContext,
  reply: FastifyReply,
  view: RequestView,
  token: string,
  session: Session,
): void {
  const secure = view.scheme === 'https';
  const remaining = Math.floor(
    (session.issuedAt + ctx.cookies.maxAgeSeconds * 1000 - ctx.clock.now()) / 1000,
  );
  reply.setCookie(ctx.cookies.cookieName(secure), token, {
    path: '/',
    httpOnly: true,
    secure,
    sameSite: 'lax',
    maxAge: Math.max(0, remaining),
  });
}

export function clearSessionCookie(ctx: GatewayContext, reply: FastifyReply, view: RequestView): void {
  const secure = view.scheme === 'https';
  reply.clearCookie(ctx.cookies.cookieName(secure), { path: '/', httpOnly: true, secure, sameSite: 'lax' });
}

/** Issues the cookie for a new session and returns it; the caller redirects. */
export async function establish(
  ctx: GatewayContext,
  reply: FastifyReply,
  view: RequestView,
  session: Session,
): Promise<void> {
  setSessionCookie(ctx, reply, view, await ctx.cookies.encode(session), session);
}

/** Errors that end the sign-in attempt shown as the login page's message. */
export function publicMessage(error: MfaError): string {
  return error.publicMessage;
}

export function mfa(code: ErrorCode, detail?: string): MfaError {
  return new MfaError(code, detail === undefined ? {} : { detail });
}
