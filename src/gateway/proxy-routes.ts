// Everything that is not /_mfa: the gate decides, then the request is forwarded to the app with the
// identity the gateway vouches for (bodies streamed both ways through undici), or the user is sent
// to sign in (form), asked for Basic credentials (basic), or the app's own login post is checked
// first (form-intercept). Upstream failures become the 502 / 504 pages; nothing internal leaks.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type {} from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { isMfaError, MfaError, toMfaError } from '../core/errors.ts';
import { errorBody } from '../http/error-handler.ts';
import { INVALID_REQUEST_PATH, type RequestView, requestView } from '../http/request-view.ts';
import type { Session } from '../http/session-cookie.ts';
import { clientGone } from '../http/waiting-request.ts';
import { type ProtectedApp, upstreamUrl } from './apps.ts';
import {
  establish,
  forwardContext,
  type GatewayContext,
  requestContext,
  sendDenied,
  sendErrorPage,
  sendPage,
  sessionIdentity,
  setSessionCookie,
} from './context.ts';
import type { Verdict } from './gate.ts';
import { downstreamHeaders, upstreamHeaders } from './upstream-headers.ts';

interface BodyOverride {
  method: string;
  url: string;
  body: Buffer;
  contentType: string | undefined;
}

/** Sends the request (or a held one) to the app and streams its answer back. */
export function forward(
  ctx: GatewayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  view: RequestView,
  app: ProtectedApp,
  session: Session | undefined,
  override?: BodyOverride,
): FastifyReply {
  // The query goes separately: reply-from decodes the URL it is given to look for `..`, which
  // would refuse or break legitimate queries (`?next=../x`, Latin-1 escapes) that we pass as sent.
  const [path = '/', query = ''] = (override?.url ?? `${view.canonical.path}${view.canonical.query}`).split(
    /\?(.*)/s,
  );
  return reply.from(upstreamUrl(app, path, ''), {
    queryString: () => query,
    ...(override
      ? {
          method: override.method as 'POST',
          body: override.body,
          contentType: override.contentType ?? 'application/x-www-form-urlencoded',
        }
      : {}),
    rewriteRequestHeaders: (_req, headers) =>
      upstreamHeaders(headers, forwardContext(ctx, view, app, session)),
    rewriteHeaders: (headers) => downstreamHeaders(headers),
    onError: (errorReply, { error }) => {
      const status = (error as { statusCode?: number }).statusCode === 504 ? 504 : 502;
      request.log.warn({ app: app.config.name, err: error }, 'upstream failed');
      sendErrorPage(ctx, errorReply as FastifyReply, status, request.id);
    },
  });
}

async function readLimited(stream: Readable | undefined, limit: number): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new MfaError('input.invalid', { detail: `login form larger than ${limit} bytes` });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Replays a held login post once the second factor is done: the app sees it only now. */
export async function replayHeld(
  ctx: GatewayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  view: RequestView,
  holdId: string,
  session: Session,
): Promise<FastifyReply> {
  const held = ctx.held.take(holdId);
  const app = held ? ctx.apps[held.appIndex] : undefined;
  if (!held || !app) return sendErrorPage(ctx, reply, 400, request.id);
  if (held.username !== session.username) return sendDenied(ctx, reply, request.id);
  const decision = ctx.policy.decide(
    { host: view.canonical.host, port: view.canonical.port, matchPath: held.url.split('?', 1)[0] ?? '/' },
    view.clientAddress,
  );
  if (!ctx.gate.authorize(decision, session).allowed) return sendDenied(ctx, reply, request.id);
  return forward(ctx, request, reply, view, app, session, {
    method: held.method,
    url: held.url,
    body: held.body,
    contentType: held.contentType,
  });
}

export function registerProxyRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const { cookies, authenticator, clock } = ctx;
  const basicCache = new LRUCache<string, Session>({
    max: Math.max(1, ctx.config.gateway.basic.cacheSize),
    ttl: Math.max(1, ctx.config.gateway.basic.cacheSeconds * 1000),
  });

  // Bodies are never parsed here: they stream to the app as they arrive (a 1 GB upload included).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  // ------------------------------------------------------------ HTTP Basic (Azure's "HTTP" mode)

  function basicChallenge(reply: FastifyReply, app: ProtectedApp) {
    const realm = (ctx.config.gateway.basic.realm ?? app.config.name).replace(/["\\]/g, '');
    return reply
      .status(401)
      .header('www-authenticate', `Basic realm="${realm}", charset="UTF-8"`)
      .header('cache-control', 'no-store')
      .header('content-type', 'text/plain; charset=utf-8')
      .send('Sign-in required.');
  }

  function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
    const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header?.trim() ?? '');
    if (!match?.[1]) return undefined;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return undefined;
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }

  /** `password,123456`: the code appended to the password, for clients that can show no second prompt. */
  function splitAppendedCode(password: string, need: 1 | 2): { password: string; code: string | undefined } {
    const digits = ctx.config.auth.totp.digits;
    const match = need === 2 ? new RegExp(`^([\\s\\S]*),(\\d{${digits}})$`).exec(password) : null;
    return match ? { password: match[1] ?? '', code: match[2] } : { password, code: undefined };
  }

  async function basicSignIn(
    request: FastifyRequest,
    reply: FastifyReply,
    view: RequestView,
    verdict: Extract<Verdict, { kind: 'sign_in' }>,
  ) {
    const { app, need } = verdict;
    const credentials = parseBasic(request.headers.authorization);
    if (!credentials) return basicChallenge(reply, app);
    const cacheKey = createHash('sha256')
      .update(`${app.index}\0${view.clientAddress}\0${request.headers.authorization}`)
      .digest('base64url');
    const cached = basicCache.get(cacheKey);
    if (cached && cached.level >= need) return forward(ctx, request, reply, view, app, cached);
    const { password, code } = splitAppendedCode(credentials.password, need);
    const rctx = requestContext(view, app);
    let session: Session;
    try {
      const outcome = await authenticator.startLogin(credentials.username, password, rctx, {
        need,
        ask: code === undefined ? 'out-of-band' : 'code',
      });
      if (outcome.kind === 'no_second_factor') return basicChallenge(reply, app);
      if (outcome.kind === 'second_factor') {
        // A code appended to the password, or else the phone out of band while the request waits.
        const push = outcome.push;
        if (code !== undefined) await authenticator.completeLogin(outcome.challenge.id, code, rctx);
        else if (push && ctx.push) {
          await ctx.push.waitForAnswer(push.id, ctx.outOfBandWaitMs, clientGone(reply));
          await authenticator.completeWithPush(outcome.challenge.id, push.id, rctx);
        } else return basicChallenge(reply, app);
        session = cookies.create({
          ...sessionIdentity(outcome, view),
          level: 2,
          secondFactorAt: clock.now(),
          via: code === undefined ? 'push' : 'totp',
        });
      } else {
        session = cookies.create({
          ...sessionIdentity(outcome, view),
          level: outcome.level,
          secondFactorAt: outcome.level === 2 ? clock.now() : null,
          via: outcome.via,
        });
      }
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.spec.httpStatus >= 500) throw failure;
      return basicChallenge(reply, app);
    }
    if (!ctx.gate.authorize(verdict.decision, session).allowed) return sendDenied(ctx, reply, request.id);
    basicCache.set(cacheKey, session);
    setSessionCookie(ctx, reply, view, await cookies.encode(session), session);
    return forward(ctx, request, reply, view, app, session);
  }

  // ------------------------------------------------------------ form interception (Azure's "Form-Based")

  async function intercept(
    request: FastifyRequest,
    reply: FastifyReply,
    view: RequestView,
    verdict: Extract<Verdict, { kind: 'intercept' }>,
  ) {
    const { app, need } = verdict;
    const form = app.config.formIntercept;
    if (!form) return sendDenied(ctx, reply, request.id);
    const contentType = request.headers['content-type'];
    const isPost = form.method === 'POST';
    if (isPost && !/^application\/x-www-form-urlencoded\b/i.test(contentType ?? ''))
      throw new MfaError('input.invalid', { detail: 'the intercepted login form must be url-encoded' });
    const body = isPost
      ? await readLimited(request.body as Readable | undefined, ctx.config.gateway.formIntercept.maxBodyBytes)
      : Buffer.alloc(0);
    const fields = new URLSearchParams(isPost ? body.toString('utf8') : view.canonical.query.slice(1));
    const username = fields.get(form.usernameField) ?? '';
    const password = fields.get(form.passwordField) ?? '';
    const url = `${view.canonical.path}${view.canonical.query}`;
    const held = { method: form.method, url, body, contentType, appIndex: app.index };
    const { session } = verdict;
    if (session && session.level >= need && session.username === username.trim().toLowerCase()) {
      if (!ctx.gate.authorize(verdict.decision, session).allowed) return sendDenied(ctx, reply, request.id);
      return forward(ctx, request, reply, view, app, session, held);
    }
    let outcome: Awaited<ReturnType<typeof authenticator.startLogin>>;
    try {
      outcome = await authenticator.startLogin(username, password, requestContext(view, app), { need });
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.spec.httpStatus >= 500 && !isMfaError(failure, 'store.unavailable')) throw failure;
      return sendPage(ctx, reply, 401, 'denied', {
        title: 'Sign-in failed',
        message: 'The user name or password was not accepted. Go back to the sign-in form and try again.',
        requestId: request.id,
      });
    }
    if (session) await cookies.revoke(session);
    const identity = sessionIdentity(outcome, view);
    if (outcome.kind === 'authenticated') {
      const fresh = cookies.create({
        ...identity,
        level: outcome.level,
        secondFactorAt: outcome.level === 2 ? clock.now() : null,
        via: outcome.via,
      });
      if (!ctx.gate.authorize(verdict.decision, fresh).allowed) return sendDenied(ctx, reply, request.id);
      await establish(ctx, reply, view, fresh);
      return forward(ctx, request, reply, view, app, fresh, held);
    }
    if (outcome.kind === 'no_second_factor')
      return sendDenied(ctx, reply, request.id, 'No second factor is set up for this account.');
    const holdId = ctx.held.hold({ ...held, username: outcome.username });
    const pending = cookies.create({
      ...identity,
      level: 1,
      secondFactorAt: null,
      via: 'password',
      pending: {
        challengeId: outcome.challenge.id,
        method: outcome.challenge.method,
        rd: app.config.match.pathPrefix,
        holdId,
      },
    });
    await establish(ctx, reply, view, pending);
    return reply.redirect('/_mfa/login', 303);
  }

  // ------------------------------------------------------------ everything else

  const isPublicRoot = (view: RequestView) =>
    view.canonical.path === '/' && view.canonical.authority === ctx.publicOrigin.host;

  /**
   * Where rewriteUrl sends a request it refused: the 400 page, and nothing reaches an app. It lives
   * here, where bodies are not parsed, so a refused request's body cannot change the answer.
   */
  app.all(INVALID_REQUEST_PATH, async (request, reply) => {
    try {
      requestView(request.raw);
    } catch {
      reply.header('connection', 'close');
      return sendErrorPage(ctx, reply, 400, request.id);
    }
    return sendErrorPage(ctx, reply, 404, request.id);
  });

  app.all('/*', async (request, reply) => {
    const view = requestView(request.raw);
    if (view.canonical.path.startsWith('/_mfa/')) return sendErrorPage(ctx, reply, 404, request.id);
    const verdict = await ctx.gate.check(view, request.method, request.headers.cookie);
    request.log.debug(
      { app: verdict.app?.config.name, verdict: verdict.kind, reasons: verdict.decision.reasons },
      'gateway decision',
    );
    switch (verdict.kind) {
      case 'deny':
        if (!verdict.app && isPublicRoot(view)) return reply.redirect('/enroll', 302);
        return sendDenied(ctx, reply, request.id);
      case 'sign_in':
        if (verdict.app.config.auth === 'basic') return basicSignIn(request, reply, view, verdict);
        if (request.method === 'GET' || request.method === 'HEAD') {
          const rd = `${view.canonical.path}${view.canonical.query}`;
          return reply.redirect(`/_mfa/login?rd=${encodeURIComponent(rd)}`, 302);
        }
        // Not a page load: a redirect would lose the body, so say what is needed instead.
        return reply
          .status(401)
          .header('cache-control', 'no-store')
          .send(errorBody(new MfaError('auth.required')));
      case 'intercept':
        return intercept(request, reply, view, verdict);
      case 'forward': {
        const { session } = verdict;
        if (session) {
          const refreshed = await cookies.refresh(session);
          if (refreshed) setSessionCookie(ctx, reply, view, refreshed, session);
        }
        return forward(ctx, request, reply, view, verdict.app, session);
      }
    }
  });
}
