// Signing in to the portal: the directory password, then the user's second factor (a code, a push
// approved on the phone, or the security questions as a fallback when the administrator allows
// them). A user with no factor goes on to the enrollment wizard. Every failure shows the one
// generic message; the audit log has why.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MfaError, toMfaError } from '../core/errors.ts';
import type { Session } from '../http/session-cookie.ts';
import { sendPushStatus } from '../http/waiting-request.ts';
import { checkCsrf } from '../http/web-page.ts';
import {
  BASE,
  coreContext,
  endPortalSession,
  formField,
  type PortalContext,
  type PortalRequest,
  portalRequest,
  render,
  setPortalSession,
} from './context.ts';

const LOGIN = `${BASE}/login`;

export function registerSignInRoutes(app: FastifyInstance, ctx: PortalContext): void {
  const { config, core, cookies, clock } = ctx;
  const { securityQuestions } = config.portal;

  const showLogin = (
    request: FastifyRequest,
    reply: FastifyReply,
    pr: PortalRequest,
    status = 200,
    extra: { username?: string; error?: string } = {},
  ) => render(ctx, request, reply, pr, 'login', { ...extra, closed: !config.portal.allowLogin }, status);

  /** Whether this user could answer the security questions instead of the code. */
  async function questionsAvailable(username: string): Promise<boolean> {
    if (!securityQuestions.enabled) return false;
    const overview = await core.enrollment.overview(username);
    return overview.securityQuestionIds.length >= securityQuestions.answersRequired;
  }

  async function showCode(
    request: FastifyRequest,
    reply: FastifyReply,
    pr: PortalRequest,
    session: Session,
    status = 200,
    error?: string,
  ) {
    return render(
      ctx,
      request,
      reply,
      pr,
      'code',
      {
        username: session.username,
        digits: config.auth.totp.digits,
        questionsAvailable: await questionsAvailable(session.username),
        pushWaiting: session.pending?.push !== undefined,
        ...(error ? { error } : {}),
      },
      status,
    );
  }

  /** The push step: the number to tap on the phone, while push-wait.js polls and then posts the form. */
  function showPush(
    request: FastifyRequest,
    reply: FastifyReply,
    pr: PortalRequest,
    session: Session,
    status = 200,
    error?: string,
  ) {
    return render(
      ctx,
      request,
      reply,
      pr,
      'push',
      {
        username: session.username,
        number: String(session.pending?.push?.number ?? ''),
        codeFallback: config.portal.oathFallback,
        ...(error ? { error } : {}),
      },
      status,
    );
  }

  /** The second factor is done: a new session id at level 2 (the old one is revoked). */
  async function finishSignIn(reply: FastifyReply, pr: PortalRequest, session: Session, via: string) {
    await cookies.revoke(session);
    const { pending: _done, ...rest } = session;
    const now = clock.now();
    await setPortalSession(ctx, reply, pr, cookies.create({ ...rest, level: 2, secondFactorAt: now, via }));
    return reply.redirect(BASE, 303);
  }

  /** A sign-in that cannot go on (expired challenge, too many attempts): start again. */
  async function restartWith(
    request: FastifyRequest,
    reply: FastifyReply,
    pr: PortalRequest,
    failure: MfaError,
  ) {
    await endPortalSession(ctx, reply, pr);
    return showLogin(request, reply, pr, 401, { error: failure.publicMessage });
  }

  app.get(LOGIN, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    if (pr.session?.pending) return reply.redirect(`${LOGIN}/code`, 303);
    if (pr.session && pr.session.level >= 2) return reply.redirect(BASE, 303);
    return showLogin(request, reply, pr);
  });

  app.post(LOGIN, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    if (!config.portal.allowLogin) return showLogin(request, reply, pr, 403);
    const username = formField(request.body, 'username', 256);
    const password = formField(request.body, 'password', 1024);
    // Azure's portal trusted IPs: from them, the password is enough to sign in (changes still step up).
    const trusted = ctx.trustedNetworks.contains(pr.view.clientAddress);
    let outcome: Awaited<ReturnType<typeof core.authenticator.startLogin>>;
    try {
      outcome = await core.authenticator.startLogin(username, password, coreContext(pr), {
        need: trusted ? 1 : 2,
      });
      // The portal manages a user's factors in the store: a user the store does not know has none to manage.
      if (!outcome.user) throw new MfaError('enrollment.not_allowed', { detail: 'user not in the store' });
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.spec.httpStatus >= 500) throw failure;
      return showLogin(request, reply, pr, 401, { username, error: failure.publicMessage });
    }
    if (pr.session) await cookies.revoke(pr.session);
    const identity = {
      username: outcome.username,
      host: pr.view.canonical.authority,
      groups: outcome.directoryUser.groups,
      email: outcome.directoryUser.email ?? null,
      name: outcome.directoryUser.displayName ?? null,
    };
    const draft: Record<string, string> = outcome.user.language ? { lang: outcome.user.language } : {};
    const start = (fields: Pick<Session, 'level' | 'via'> & Partial<Pick<Session, 'draft' | 'pending'>>) =>
      setPortalSession(
        ctx,
        reply,
        pr,
        cookies.create({ ...identity, secondFactorAt: null, draft, ...fields }),
      );
    if (outcome.kind === 'authenticated') {
      // A bypass or a trusted network lets the user in, but is no proof for changing factors.
      await start({ level: 2, via: trusted && outcome.level === 1 ? 'trusted_network' : outcome.via });
      return reply.redirect(BASE, 303);
    }
    if (outcome.kind === 'no_second_factor') {
      await start({ level: 1, via: 'password', draft: { ...draft, enrol: '1' } });
      return reply.redirect(`${BASE}/setup`, 303);
    }
    await start({
      level: 1,
      via: 'password',
      pending: {
        challengeId: outcome.challenge.id,
        method: outcome.challenge.method,
        rd: BASE,
        ...(outcome.push ? { push: { id: outcome.push.id, number: outcome.push.number } } : {}),
      },
    });
    return reply.redirect(`${LOGIN}/code`, 303);
  });

  app.get(`${LOGIN}/code`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    const session = pr.session;
    if (!session?.pending) return reply.redirect(LOGIN, 303);
    // "Use a code instead" on the push page: the same challenge, answered with a code (if allowed).
    const useCode = (request.query as Record<string, unknown>).use === 'code' && config.portal.oathFallback;
    if (session.pending.push && !useCode) return showPush(request, reply, pr, session);
    return showCode(request, reply, pr, session);
  });

  app.post(`${LOGIN}/code`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const session = pr.session;
    if (!session?.pending) return reply.redirect(LOGIN, 303);
    const code = formField(request.body, 'code', 16).trim();
    try {
      await core.authenticator.completeLogin(session.pending.challengeId, code, coreContext(pr));
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.spec.httpStatus >= 500) throw failure;
      if (failure.code === 'auth.invalid_code')
        return showCode(request, reply, pr, session, 401, failure.publicMessage);
      return restartWith(request, reply, pr, failure);
    }
    return finishSignIn(reply, pr, session, 'totp');
  });

  /** Polled by push-wait.js, held up to 25 s: the state of this sign-in's push as JSON. */
  app.get(`${LOGIN}/push/status`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    return sendPushStatus(reply, core.push, pr.session?.pending?.push?.id);
  });

  app.post(`${LOGIN}/push`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const session = pr.session;
    const push = session?.pending?.push;
    if (!session?.pending || !push) return reply.redirect(LOGIN, 303);
    try {
      await core.authenticator.completeWithPush(session.pending.challengeId, push.id, coreContext(pr));
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.spec.httpStatus >= 500) throw failure;
      // Still waiting for the phone: nothing was spent, the page keeps waiting.
      if (failure.code === 'auth.push_pending')
        return showPush(request, reply, pr, session, 409, pr.t('push.notYet'));
      return restartWith(request, reply, pr, failure);
    }
    return finishSignIn(reply, pr, session, 'push');
  });

  /** The administrator's question texts in the page's language (the default language otherwise). */
  const questionTexts = (ids: readonly string[], lang: string) =>
    ids.map((id) => {
      const question = securityQuestions.questions.find((q) => q.id === id);
      const text = question?.text[lang] ?? question?.text[config.portal.defaultLanguage] ?? id;
      return { id, text };
    });

  app.get(`${LOGIN}/questions`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    const session = pr.session;
    if (!session?.pending) return reply.redirect(LOGIN, 303);
    if (!(await questionsAvailable(session.username))) return reply.redirect(`${LOGIN}/code`, 303);
    let ids = session.pending.questionIds;
    if (!ids) {
      // Chosen once per sign-in and kept in the encrypted cookie: reloading cannot shop for easier ones.
      ids = await core.authenticator.fallbackQuestions(session.pending.challengeId, coreContext(pr));
      if (ids.length === 0) return reply.redirect(`${LOGIN}/code`, 303);
      await setPortalSession(ctx, reply, pr, {
        ...session,
        pending: { ...session.pending, questionIds: ids },
      });
    }
    return render(ctx, request, reply, pr, 'questions-answer', { questions: questionTexts(ids, pr.lang) });
  });

  app.post(`${LOGIN}/questions`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const session = pr.session;
    const ids = session?.pending?.questionIds;
    if (!session?.pending || !ids) return reply.redirect(LOGIN, 303);
    const answers = Object.fromEntries(
      ids.map((id) => [id, formField(request.body, `answer_${id}`, 200, true)]),
    );
    try {
      await core.authenticator.completeWithAnswers(
        session.pending.challengeId,
        ids,
        answers,
        coreContext(pr),
      );
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.spec.httpStatus >= 500) throw failure;
      if (failure.code === 'auth.invalid_code')
        return render(
          ctx,
          request,
          reply,
          pr,
          'questions-answer',
          { questions: questionTexts(ids, pr.lang), error: failure.publicMessage },
          401,
        );
      return restartWith(request, reply, pr, failure);
    }
    return finishSignIn(reply, pr, session, 'security_questions');
  });

  app.get(`${LOGIN}/restart`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    await endPortalSession(ctx, reply, pr);
    return reply.redirect(LOGIN, 303);
  });

  app.post(`${BASE}/logout`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    if (pr.session)
      await core.audit.record({
        at: clock.now(),
        type: 'auth.logout',
        outcome: 'success',
        channel: 'portal',
        username: pr.session.username,
        clientAddress: pr.view.clientAddress,
        reason: null,
        actor: null,
        application: 'portal',
        details: null,
      });
    await endPortalSession(ctx, reply, pr);
    return render(ctx, request, reply, pr, 'signed-out');
  });
}
