// What every portal route shares: the config, the core services, the portal's session cookie and
// the page renderer with the user's language. Handlers call `portalRequest` once, then a short list
// of named checks (`requireSignedIn`, `requirePermission`) before they act.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { EdgeCore } from '../core/edge-surface.ts';
import { MfaError } from '../core/errors.ts';
import type { NetworkList } from '../core/policy/networks.ts';
import type { Clock, RequestContext } from '../core/ports.ts';
import { type RequestView, requestView } from '../http/request-view.ts';
import type { Session, SessionCookies } from '../http/session-cookie.ts';
import { csrfToken, PAGE_HEADERS, readCookie } from '../http/web-page.ts';
import type { I18n, Translate } from './i18n.ts';
import type { PortalPages } from './pages.ts';

export const BASE = '/enroll';

export type AdminPermission = Config['portal']['admins'][number]['permissions'][number];

export interface PortalContext {
  config: Readonly<Config>;
  /** `push` only waits for a push's answer (the sign-in page's long poll); the phone talks to /mobile. */
  core: Pick<EdgeCore, 'authenticator' | 'enrollment' | 'userAdmin' | 'auditQuery' | 'audit'> & {
    push: Pick<EdgeCore['push'], 'waitForAnswer'>;
  };
  clock: Clock;
  cookies: SessionCookies;
  pages: PortalPages;
  i18n: I18n;
  /** portal.trustedNetworks: sign-in from them skips the second factor. */
  trustedNetworks: NetworkList;
}

/** One request as the portal sees it: where it came from, the session, and the language to answer in. */
export interface PortalRequest {
  view: RequestView;
  session: Session | undefined;
  lang: string;
  t: Translate;
}

export async function portalRequest(ctx: PortalContext, request: FastifyRequest): Promise<PortalRequest> {
  const view = requestView(request.raw);
  const session = await readPortalSession(ctx, request, view);
  const lang = ctx.i18n.choose(session?.draft?.lang, request.headers['accept-language']);
  return { view, session, lang, t: ctx.i18n.translator(lang) };
}

export function coreContext(pr: PortalRequest): RequestContext {
  return { channel: 'portal', clientAddress: pr.view.clientAddress, application: 'portal' };
}

// ---------------------------------------------------------------- session cookie

async function readPortalSession(ctx: PortalContext, request: FastifyRequest, view: RequestView) {
  const token = readCookie(request.headers.cookie, ctx.cookies.cookieName(view.scheme === 'https'));
  if (!token) return undefined;
  const result = await ctx.cookies.verify(token, view.canonical.authority);
  return typeof result === 'string' ? undefined : result;
}

export async function setPortalSession(
  ctx: PortalContext,
  reply: FastifyReply,
  pr: PortalRequest,
  session: Session,
): Promise<void> {
  const secure = pr.view.scheme === 'https';
  reply.setCookie(ctx.cookies.cookieName(secure), await ctx.cookies.encode(session), {
    path: '/',
    httpOnly: true,
    secure,
    sameSite: 'lax',
    maxAge: ctx.cookies.maxAgeSeconds,
  });
  pr.session = session;
}

/** Replaces the session with a copy that has `changes` (same id: not a new sign-in). */
export async function updatePortalSession(
  ctx: PortalContext,
  reply: FastifyReply,
  pr: PortalRequest,
  changes: Partial<Omit<Session, 'id' | 'username' | 'host' | 'issuedAt'>>,
): Promise<Session> {
  if (!pr.session) throw new MfaError('auth.required');
  const next = { ...pr.session, ...changes, lastSeen: ctx.clock.now() };
  await setPortalSession(ctx, reply, pr, next);
  return next;
}

export async function endPortalSession(
  ctx: PortalContext,
  reply: FastifyReply,
  pr: PortalRequest,
): Promise<void> {
  if (pr.session) await ctx.cookies.revoke(pr.session);
  const secure = pr.view.scheme === 'https';
  reply.clearCookie(ctx.cookies.cookieName(secure), { path: '/', httpOnly: true, secure, sameSite: 'lax' });
  pr.session = undefined;
}

// ---------------------------------------------------------------- checks

/** A fully signed-in user (password and second factor, or a trusted network); otherwise to sign-in. */
export function requireSignedIn(pr: PortalRequest): Session {
  if (!pr.session || pr.session.level < 2) throw new MfaError('auth.required');
  return pr.session;
}

/** The administrator permissions the session's groups grant (groups compared without case). */
export function permissionsOf(ctx: PortalContext, session: Session | undefined): Set<AdminPermission> {
  const granted = new Set<AdminPermission>();
  if (!session || session.level < 2) return granted;
  const groups = new Set(session.groups.map((g) => g.toLowerCase()));
  for (const admin of ctx.config.portal.admins) {
    if (groups.has(admin.group.toLowerCase())) for (const p of admin.permissions) granted.add(p);
  }
  return granted;
}

export function requirePermission(
  ctx: PortalContext,
  pr: PortalRequest,
  permission: AdminPermission,
): Session {
  const session = requireSignedIn(pr);
  if (!permissionsOf(ctx, session).has(permission))
    throw new MfaError('auth.forbidden', { detail: `${session.username} lacks ${permission}` });
  return session;
}

// ---------------------------------------------------------------- pages

/** Renders a portal page with what every page needs: language, CSRF token, navigation. */
export function render(
  ctx: PortalContext,
  request: FastifyRequest,
  reply: FastifyReply,
  pr: PortalRequest,
  name: string,
  data: Record<string, unknown> = {},
  status = 200,
): FastifyReply {
  const session = pr.session;
  const permissions = permissionsOf(ctx, session);
  const html = ctx.pages.render(name, {
    ...data,
    t: pr.t,
    lang: pr.lang,
    base: BASE,
    csrf: csrfToken(request, reply, pr.view),
    nav: {
      signedIn: session !== undefined && session.level >= 2,
      username: session?.username ?? null,
      isAdmin: permissions.size > 0,
      permissions: [...permissions],
    },
  });
  return reply.status(status).headers(PAGE_HEADERS).send(html);
}

/** Form field as a string, or `input.invalid` naming the field. */
export function formField(body: unknown, name: string, max = 256, optional = false): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (value === undefined && optional) return '';
  if (typeof value !== 'string' || value.length > max)
    throw new MfaError('input.invalid', { field: name, detail: 'missing or too long' });
  return value;
}
