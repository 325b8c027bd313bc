// The sign-in pages at /_mfa on every protected host: password, then the user's second factor,
// then back to where the user was going. Each handler is a short list of named checks; every
// failure shows the one generic message and keeps the detail in the audit log.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MfaError, toMfaError } from '../core/errors.ts';
import { safeReturnUrl } from '../core/policy/return-url.ts';
import type { Method } from '../core/ports.ts';
import { canonicalRequest } from '../http/canonical-request.ts';
import { type RequestView, requestView } from '../http/request-view.ts';
import type { Session } from '../http/session-cookie.ts';
import { sendPushStatus } from '../http/waiting-request.ts';
import { checkCsrf, csrfToken, sendStatic } from '../http/web-page.ts';
import type { ProtectedApp } from './apps.ts';
import {
  clearSessionCookie,
  establish,
  type GatewayContext,
  requestContext,
  sendDenied,
  sendErrorPage,
  sendPage,
  sessionIdentity,
} from './context.ts';
import { replayHeld } from './proxy-routes.ts';

const LOGIN = '/_mfa/login';

type Form = Record<string, string | string[] | undefined>;

interface StepInput {
  reply: FastifyReply;
  status: number;
  appName: string;
  csrf: string;
  session: Session;
  error: string | undefined;
}

function field(body: unknown, name: string, max: number): string {
  const value = (body as Form | undefined)?.[name];
  if (typeof value !== 'string' || value.length > max)
    throw new MfaError('input.invalid', { field: name, detail: 'missing or too long' });
  return value;
}

export function registerLoginRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const { cookies, authenticator, clock } = ctx;

  /** The app a same-host return path leads to, and how many factors it needs from this client. */
  /**
   * The app a same-host return path leads to, and how many factors it needs from this client. The
   * path is made canonical by the same rule as requests; one that is refused asks for both factors.
   */
  function target(view: RequestView, rd: string): { app: ProtectedApp | undefined; need: 1 | 2 } {
    if (!rd.startsWith('/')) return { app: undefined, need: 2 };
    let matchPath: string;
    try {
      matchPath = canonicalRequest({
        rawUrl: rd.split('#', 1)[0] ?? '/',
        hostHeader: view.canonical.authority,
        scheme: view.scheme,
      }).matchPath;
    } catch {
      return { app: undefined, need: 2 };
    }
    const decision = ctx.policy.decide(
      { host: view.canonical.host, port: view.canonical.port, matchPath },
      view.clientAddress,
    );
    const app = decision.ruleIndex >= 0 ? ctx.apps[decision.ruleIndex] : undefined;
    return { app, need: decision.required === 'one_factor' ? 1 : 2 };
  }

  const returnTo = (view: RequestView, rd: unknown) =>
    safeReturnUrl(typeof rd === 'string' ? rd : undefined, {
      origin: `${view.scheme}://${view.canonical.authority}`,
      protectedHosts: ctx.apps.flatMap((a) => a.config.match.hosts),
      allowHttp: view.scheme === 'http',
    });

  /**
   * How each second-factor method is asked for on the page, keyed by the challenge's method: a code,
   * or the number to match while the page waits for the phone (portal/gateway/push.eta).
   */
  const steps: Partial<Record<Method, (step: StepInput) => FastifyReply>> = {
    totp: ({ reply, status, appName, csrf, session, error }) =>
      sendPage(ctx, reply, status, 'totp', {
        appName,
        action: `${LOGIN}/code`,
        csrf,
        username: session.username,
        digits: ctx.config.auth.totp.digits,
        restartUrl: `${LOGIN}/restart`,
        ...(error ? { error } : {}),
      }),
    push: ({ reply, status, appName, csrf, session, error }) =>
      sendPage(ctx, reply, status, 'push', {
        appName,
        action: `${LOGIN}/push`,
        statusUrl: `${LOGIN}/push/status`,
        csrf,
        username: session.username,
        number: String(session.pending?.push?.number ?? ''),
        restartUrl: `${LOGIN}/restart`,
        ...(ctx.config.portal.oathFallback ? { fallbackUrl: `${LOGIN}?use=code` } : {}),
        ...(error ? { error } : {}),
      }),
  };

  async function showSecondFactor(
    request: FastifyRequest,
    reply: FastifyReply,
    view: RequestView,
    session: Session,
    status = 200,
    error?: string,
    method = session.pending?.method ?? 'totp',
  ) {
    const csrf = csrfToken(request, reply, view);
    const { app } = target(view, session.pending?.rd ?? '/');
    const step = steps[method];
    if (!step) throw new MfaError('internal', { detail: `no sign-in step for ${session.pending?.method}` });
    return step({ reply, status, appName: app?.config.name ?? 'Sign in', csrf, session, error });
  }

  function showLogin(
    request: FastifyRequest,
    reply: FastifyReply,
    view: RequestView,
    rd: string,
    status = 200,
    extra: { username?: string; error?: string } = {},
  ) {
    const csrf = csrfToken(request, reply, view);
    const { app } = target(view, rd);
    return sendPage(ctx, reply, status, 'login', {
      appName: app?.config.name ?? view.canonical.host,
      action: LOGIN,
      rd,
      csrf,
      ...extra,
    });
  }

  /** A user with no second factor: enrol at the portal, or the denial page, as configured. */
  function noSecondFactor(reply: FastifyReply, request: FastifyRequest, username: string) {
    if (ctx.config.gateway.noSecondFactor === 'enroll')
      return sendPage(ctx, reply, 403, 'no-factor', {
        enrollUrl: new URL('/enroll', ctx.publicOrigin).href,
        username,
      });
    return sendDenied(ctx, reply, request.id, 'No second factor is set up for this account.');
  }

  /** Anything but a retry ends the sign-in: the user starts again with the password. */
  async function failSecondFactor(
    request: FastifyRequest,
    reply: FastifyReply,
    view: RequestView,
    session: Session,
    error: string,
  ) {
    await cookies.revoke(session);
    if (session.pending?.holdId) ctx.held.drop(session.pending.holdId);
    clearSessionCookie(ctx, reply, view);
    return showLogin(request, reply, view, session.pending?.rd ?? '/', 401, { error });
  }

  /** The second factor is proven: a new session (new id) at level 2, then where the user was going. */
  async function finishSecondFactor(
    request: FastifyRequest,
    reply: FastifyReply,
    view: RequestView,
    session: Session,
    via: Method,
  ) {
    const pending = session.pending;
    await cookies.revoke(session);
    const { pending: _done, ...rest } = session;
    const upgraded = cookies.create({ ...rest, level: 2, secondFactorAt: clock.now(), via });
    await establish(ctx, reply, view, upgraded);
    if (pending?.holdId) return replayHeld(ctx, request, reply, view, pending.holdId, upgraded);
    return reply.redirect(pending?.rd ?? '/', 303);
  }

  app.get(LOGIN, async (request, reply) => {
    const view = requestView(request.raw);
    const rd = returnTo(view, (request.query as Form).rd);
    const session = await ctx.gate.readSession(view, request.headers.cookie);
    if (session?.pending) {
      // "Use a code instead" on the push page: the same challenge, answered with a code.
      const useCode = (request.query as Form).use === 'code' && ctx.config.portal.oathFallback;
      return showSecondFactor(request, reply, view, session, 200, undefined, useCode ? 'totp' : undefined);
    }
    if (session && session.level >= target(view, rd).need) return reply.redirect(rd, 303);
    return showLogin(request, reply, view, rd);
  });

  app.post(LOGIN, async (request, reply) => {
    const view = requestView(request.raw);
    const rd = returnTo(view, (request.body as Form | undefined)?.rd);
    checkCsrf(request, view);
    const username = field(request.body, 'username', 256);
    const password = field(request.body, 'password', 1024);
    const { app: targetApp, need } = target(view, rd);
    const previous = await ctx.gate.readSession(view, request.headers.cookie);
    let outcome: Awaited<ReturnType<typeof authenticator.startLogin>>;
    try {
      outcome = await authenticator.startLogin(username, password, requestContext(view, targetApp), { need });
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.spec.httpStatus >= 500) throw failure;
      return showLogin(request, reply, view, rd, 401, { username, error: failure.publicMessage });
    }
    if (previous) await cookies.revoke(previous);
    const identity = sessionIdentity(outcome, view);
    if (outcome.kind === 'authenticated') {
      const now = clock.now();
      const session = cookies.create({
        ...identity,
        level: outcome.level,
        secondFactorAt: outcome.level === 2 ? now : null,
        via: outcome.via,
      });
      await establish(ctx, reply, view, session);
      return reply.redirect(rd, 303);
    }
    if (outcome.kind === 'no_second_factor') {
      await establish(
        ctx,
        reply,
        view,
        cookies.create({ ...identity, level: 1, secondFactorAt: null, via: 'password' }),
      );
      return noSecondFactor(reply, request, outcome.username);
    }
    const session = cookies.create({
      ...identity,
      level: 1,
      secondFactorAt: null,
      via: 'password',
      pending: {
        challengeId: outcome.challenge.id,
        method: outcome.challenge.method,
        rd,
        ...(outcome.push ? { push: { id: outcome.push.id, number: outcome.push.number } } : {}),
      },
    });
    await establish(ctx, reply, view, session);
    return reply.redirect(LOGIN, 303);
  });

  app.post(`${LOGIN}/code`, async (request, reply) => {
    const view = requestView(request.raw);
    checkCsrf(request, view);
    const session = await ctx.gate.readSession(view, request.headers.cookie);
    const pending = session?.pending;
    if (!session || !pending) return reply.redirect(LOGIN, 303);
    const code = field(request.body, 'code', 16).trim();
    const { app: targetApp } = target(view, pending.rd);
    try {
      await authenticator.completeLogin(pending.challengeId, code, requestContext(view, targetApp));
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.spec.httpStatus >= 500) throw failure;
      // A wrong code may be retried on the same challenge; anything else starts again.
      if (failure.code === 'auth.invalid_code')
        return showSecondFactor(request, reply, view, session, 401, failure.publicMessage, 'totp');
      return failSecondFactor(request, reply, view, session, failure.publicMessage);
    }
    return finishSecondFactor(request, reply, view, session, 'totp');
  });

  /** Polled (held up to 25 s) by push-wait.js: the state of this sign-in's push. */
  app.get(`${LOGIN}/push/status`, async (request, reply) => {
    const session = await ctx.gate.readSession(requestView(request.raw), request.headers.cookie);
    return sendPushStatus(reply, ctx.push, session?.pending?.push?.id);
  });

  app.post(`${LOGIN}/push`, async (request, reply) => {
    const view = requestView(request.raw);
    checkCsrf(request, view);
    const session = await ctx.gate.readSession(view, request.headers.cookie);
    const pending = session?.pending;
    if (!session || !pending?.push) return reply.redirect(LOGIN, 303);
    const { app: targetApp } = target(view, pending.rd);
    try {
      await authenticator.completeWithPush(
        pending.challengeId,
        pending.push.id,
        requestContext(view, targetApp),
      );
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.spec.httpStatus >= 500) throw failure;
      if (failure.code === 'auth.push_pending')
        return showSecondFactor(
          request,
          reply,
          view,
          session,
          409,
          'Not approved yet. Approve the request on your phone.',
        );
      return failSecondFactor(request, reply, view, session, failure.publicMessage);
    }
    return finishSecondFactor(request, reply, view, session, 'push');
  });

  app.get(`${LOGIN}/restart`, async (request, reply) => {
    const view = requestView(request.raw);
    const session = await ctx.gate.readSession(view, request.headers.cookie);
    if (session) await cookies.revoke(session);
    if (session?.pending?.holdId) ctx.held.drop(session.pending.holdId);
    clearSessionCookie(ctx, reply, view);
    return reply.redirect(LOGIN, 303);
  });

  const logout = async (request: FastifyRequest, reply: FastifyReply) => {
    const view = requestView(request.raw);
    const session = await ctx.gate.readSession(view, request.headers.cookie);
    if (session) {
      await cookies.revoke(session);
      await ctx.audit.record({
        at: clock.now(),
        type: 'auth.logout',
        outcome: 'success',
        channel: 'web',
        username: session.username,
        clientAddress: view.clientAddress,
        reason: null,
        actor: null,
        application: view.canonical.authority,
        details: null,
      });
    }
    clearSessionCookie(ctx, reply, view);
    return sendPage(ctx, reply, 200, 'signed-out', { loginUrl: LOGIN });
  };
  app.get('/_mfa/logout', logout);
  app.post('/_mfa/logout', logout);

  app.get('/_mfa/static/*', async (request, reply) => {
    const name = requestView(request.raw).canonical.path.slice('/_mfa/static/'.length);
    return sendStatic(reply, name) || sendErrorPage(ctx, reply, 404, request.id);
  });
}
