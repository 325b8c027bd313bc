// The signed-in user's pages: the enrollment wizard (first factor, phones, PIN, security questions),
// the home page, and each change (a new authenticator app, activating the mobile app). Who may
// change what is the core's rule (enrollment.changeAllowed); a change that needs the current factor
// again sends the user through the step-up page and back.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { isMfaError, MfaError, toMfaError } from '../core/errors.ts';
import type { Method } from '../core/ports.ts';
import type { Session } from '../http/session-cookie.ts';
import { checkCsrf } from '../http/web-page.ts';
import {
  BASE,
  coreContext,
  formField,
  type PortalContext,
  type PortalRequest,
  portalRequest,
  render,
  requireSignedIn,
  setPortalSession,
  updatePortalSession,
} from './context.ts';

type Overview = Awaited<ReturnType<PortalContext['core']['enrollment']['overview']>>;

/** The messages `?done=` may ask the home page to show. */
const DONE = new Set([
  'setup',
  'authenticator',
  'phone',
  'pin',
  'questions',
  'method',
  'language',
  'removed',
]);

/** The wizard's steps, in order; each says whether it still has to be done. */
type StepName = 'method' | 'authenticator' | 'phone' | 'pin' | 'questions';

export function registerSelfServiceRoutes(app: FastifyInstance, ctx: PortalContext): void {
  const { config, core, cookies, clock } = ctx;
  const { portal } = config;

  /** Phones may be activated (the mobile service runs); as a first factor only if push is a method. */
  const mobileAllowed = portal.mobileApp.allow;
  const mobileFirstFactor = mobileAllowed && (portal.methods as readonly string[]).includes('push');

  const proof = (session: Session) => ({
    secondFactorAt: session.secondFactorAt,
    ...(session.stepUpAt !== undefined ? { stepUpAt: session.stepUpAt } : {}),
  });

  /**
   * A session that may use the wizard and the change pages: fully signed in, or (first enrollment)
   * signed in with the password by a user who has no factor yet.
   */
  async function enrolling(pr: PortalRequest): Promise<{ session: Session; overview: Overview }> {
    const session = pr.session;
    if (!session || session.pending) throw new MfaError('auth.required');
    const overview = await core.enrollment.overview(session.username);
    if (session.level < 2) {
      if (session.draft?.enrol !== '1' || overview.factors.length > 0) throw new MfaError('auth.required');
      if (!portal.enrollment.allow)
        throw new MfaError('enrollment.not_allowed', { detail: 'portal.enrollment.allow is false' });
    }
    return { session, overview };
  }

  const inWizard = (session: Session) => session.draft?.enrol === '1';

  function pendingSteps(session: Session, overview: Overview): StepName[] {
    const steps: StepName[] = [];
    const choosing = portal.allowSelectMethod && portal.methods.length > 1;
    if (choosing && !session.draft?.method && overview.factors.length === 0) steps.push('method');
    if (overview.factors.length === 0) steps.push('authenticator');
    if (portal.enrollment.promptPhone && overview.user.phones.length === 0 && session.draft?.phone !== 'done')
      steps.push('phone');
    if (portal.pin.required && !overview.hasPin) steps.push('pin');
    if (portal.securityQuestions.enabled && overview.securityQuestionIds.length === 0)
      steps.push('questions');
    return steps;
  }

  /** "Step 2 of 4" for the wizard's pages; the total counts the steps already done in this run. */
  function wizardInfo(session: Session, overview: Overview, step: StepName) {
    if (!inWizard(session)) return undefined;
    const left = pendingSteps(session, overview);
    const done = Number(session.draft?.done ?? '0');
    const index = left.indexOf(step);
    return { step: done + (index < 0 ? 0 : index) + 1, total: done + left.length };
  }

  /** After a saved step: on through the wizard, or home with a message. */
  async function afterChange(reply: FastifyReply, pr: PortalRequest, done: string) {
    const session = pr.session;
    if (session && inWizard(session)) {
      await updatePortalSession(ctx, reply, pr, {
        draft: { ...session.draft, done: String(Number(session.draft?.done ?? '0') + 1) },
      });
      return reply.redirect(`${BASE}/setup`, 303);
    }
    return reply.redirect(`${BASE}?done=${done}`, 303);
  }

  /** The core's answer "prove the factor again first": through the step-up page and back to `rd`. */
  function stepUpOr(reply: FastifyReply, error: unknown, rd: string): FastifyReply {
    if (isMfaError(error, 'enrollment.step_up_required'))
      return reply.redirect(`${BASE}/stepup?rd=${encodeURIComponent(rd)}`, 303);
    throw error;
  }

  /** Runs a change; bad input re-renders the form with the message, a stale proof steps up. */
  async function change(
    request: FastifyRequest,
    reply: FastifyReply,
    pr: PortalRequest,
    page: { name: string; rd: string; data: () => Promise<Record<string, unknown>> },
    act: () => Promise<unknown>,
  ): Promise<FastifyReply | undefined> {
    try {
      await act();
      return undefined;
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.code === 'enrollment.step_up_required') return stepUpOr(reply, failure, page.rd);
      if (failure.code !== 'input.invalid' && failure.code !== 'auth.invalid_code') throw failure;
      return render(
        ctx,
        request,
        reply,
        pr,
        page.name,
        { ...(await page.data()), error: failure.publicMessage },
        failure.spec.httpStatus,
      );
    }
  }

  // ---------------------------------------------------------------- home and wizard

  app.get(BASE, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    const session = pr.session;
    if (!session) return reply.redirect(`${BASE}/login`, 303);
    if (session.pending) return reply.redirect(`${BASE}/login/code`, 303);
    if (session.level < 2) return reply.redirect(`${BASE}/setup`, 303);
    const overview = await core.enrollment.overview(session.username);
    const done = (request.query as Record<string, unknown>).done;
    const format = new Intl.DateTimeFormat(pr.lang, { dateStyle: 'medium', timeStyle: 'short' });
    const recent = (await core.enrollment.recentSignIns(session.username, 10)).map((e) => ({
      iso: new Date(e.at).toISOString(),
      when: format.format(e.at),
      what: pr.t(`event.${e.type}`),
      outcome: e.outcome,
      from: e.clientAddress ?? '',
    }));
    const { user } = overview;
    return render(ctx, request, reply, pr, 'home', {
      displayName: user.displayName ?? user.username,
      done: typeof done === 'string' && DONE.has(done) ? done : null,
      factors: overview.factors.map((f) => ({
        id: f.id,
        label: f.label,
        kind: f.kind,
        created: new Intl.DateTimeFormat(pr.lang, { dateStyle: 'medium' }).format(f.createdAt),
      })),
      method: user.defaultMethod,
      methods: portal.methods,
      mobileAllowed,
      canSelectMethod: portal.allowSelectMethod && portal.methods.length > 1,
      phones: user.phones,
      pinEnabled: portal.pin.required,
      hasPin: overview.hasPin,
      questionsEnabled: portal.securityQuestions.enabled,
      questionCount: overview.securityQuestionIds.length,
      bypass: portal.userBypass.allow && overview.factors.length > 0 ? portal.userBypass : null,
      languages: portal.allowSelectLanguage
        ? ctx.i18n.languages.map((code) => ({ code, name: ctx.i18n.nameOf(code) }))
        : null,
      userLanguage: user.language,
      recent,
    });
  });

  app.get(`${BASE}/setup`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    const { session, overview } = await enrolling(pr);
    if (overview.factors.length === 0 && session.level < 2) {
      const allowed = await core.enrollment.firstEnrollmentAllowed(overview.user, coreContext(pr));
      if (!allowed)
        return render(
          ctx,
          request,
          reply,
          pr,
          'not-allowed',
          { message: new MfaError('enrollment.not_allowed').publicMessage },
          403,
        );
    }
    const next = pendingSteps(session, overview)[0];
    if (next === 'method') return reply.redirect(`${BASE}/setup/method`, 303);
    // Chose the mobile app: the first factor is the phone's activation instead of a scanned seed.
    if (next === 'authenticator' && session.draft?.method === 'push' && mobileFirstFactor)
      return reply.redirect(`${BASE}/mobile`, 303);
    if (next) return reply.redirect(`${BASE}/${next}`, 303);
    // Nothing left: the wizard is over.
    if (inWizard(session)) {
      const { enrol: _e, done: _d, phone: _p, method: _m, ...rest } = session.draft ?? {};
      await updatePortalSession(ctx, reply, pr, { draft: rest });
    }
    return reply.redirect(`${BASE}?done=setup`, 303);
  });

  app.get(`${BASE}/setup/method`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    const { session, overview } = await enrolling(pr);
    return render(ctx, request, reply, pr, 'method', {
      methods: portal.methods,
      wizard: wizardInfo(session, overview, 'method'),
    });
  });

  app.post(`${BASE}/setup/method`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const { session } = await enrolling(pr);
    const method = formField(request.body, 'method', 16);
    if (!(portal.methods as readonly string[]).includes(method))
      throw new MfaError('input.invalid', { field: 'method', detail: 'not an allowed method' });
    await updatePortalSession(ctx, reply, pr, { draft: { ...session.draft, method } });
    return afterChange(reply, pr, 'method');
  });

  // ---------------------------------------------------------------- authenticator (TOTP)

  /** The seed being enrolled lives only in the encrypted session until its first code verifies. */
  async function draftSeed(reply: FastifyReply, pr: PortalRequest, session: Session) {
    const existing = session.draft?.seed;
    if (existing) return { secretBase32: existing, uri: session.draft?.seedUri ?? '' };
    const seed = await core.enrollment.newTotpSeed(session.username);
    await updatePortalSession(ctx, reply, pr, {
      draft: { ...session.draft, seed: seed.secretBase32, seedUri: seed.uri },
    });
    return seed;
  }

  async function authenticatorPage(
    reply: FastifyReply,
    pr: PortalRequest,
    session: Session,
    overview: Overview,
  ) {
    const seed = await draftSeed(reply, pr, pr.session ?? session);
    const qrSvg = await QRCode.toString(seed.uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return {
      secret: seed.secretBase32,
      qrSvg,
      account: session.username,
      issuer: config.auth.totp.issuer,
      digits: config.auth.totp.digits,
      oathToken: portal.enrollment.promptOathToken,
      mobileInstead: mobileFirstFactor,
      wizard: wizardInfo(session, overview, 'authenticator'),
    };
  }

  app.get(`${BASE}/authenticator`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    const { session, overview } = await enrolling(pr);
    // Ask for the step-up before showing a new key, not after the user scanned it.
    try {
      await core.enrollment.changeAllowed(overview.user, coreContext(pr), proof(session));
    } catch (error) {
      if (isMfaError(error, 'enrollment.not_allowed'))
        return render(ctx, request, reply, pr, 'not-allowed', { message: error.publicMessage }, 403);
      return stepUpOr(reply, error, `${BASE}/authenticator`);
    }
    return render(
      ctx,
      request,
      reply,
      pr,
      'authenticator',
      await authenticatorPage(reply, pr, session, overview),
    );
  });

  /** A factor was added: a first enrollment now counts as signed in with that factor (new session id). */
  async function afterFactor(reply: FastifyReply, pr: PortalRequest, session: Session) {
    const { seed: _s, seedUri: _u, ...draft } = session.draft ?? {};
    if (session.level < 2) {
      await cookies.revoke(session);
      const now = clock.now();
      const { pending: _p, ...rest } = session;
      await setPortalSession(
        ctx,
        reply,
        pr,
        cookies.create({ ...rest, level: 2, secondFactorAt: now, via: 'enrollment', draft }),
      );
    } else {
      await updatePortalSession(ctx, reply, pr, { draft });
    }
    return afterChange(reply, pr, 'authenticator');
  }

  app.post(`${BASE}/authenticator`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const { session, overview } = await enrolling(pr);
    const code = formField(request.body, 'code', 16).trim();
    const secretBase32 = session.draft?.seed;
    if (!secretBase32) return reply.redirect(`${BASE}/authenticator`, 303);
    const failed = await change(
      request,
      reply,
      pr,
      {
        name: 'authenticator',
        rd: `${BASE}/authenticator`,
        data: () => authenticatorPage(reply, pr, session, overview),
      },
      () =>
        core.enrollment.confirmTotp(
          session.username,
          { secretBase32, code, label: pr.t('totp.defaultLabel'), replace: overview.factors.length > 0 },
          coreContext(pr),
          proof(session),
        ),
    );
    return failed ?? afterFactor(reply, pr, session);
  });

  app.post(`${BASE}/authenticator/token`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    if (!portal.enrollment.promptOathToken) throw new MfaError('not_found');
    const { session, overview } = await enrolling(pr);
    const secretBase32 = formField(request.body, 'secret', 128).trim();
    const code = formField(request.body, 'code', 16).trim();
    const failed = await change(
      request,
      reply,
      pr,
      {
        name: 'authenticator',
        rd: `${BASE}/authenticator`,
        data: () => authenticatorPage(reply, pr, session, overview),
      },
      () =>
        core.enrollment.importOathToken(
          session.username,
          { secretBase32, code, label: pr.t('token.defaultLabel') },
          coreContext(pr),
          proof(session),
        ),
    );
    return failed ?? afterFactor(reply, pr, session);
  });

  app.post(`${BASE}/devices/:id/remove`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const session = requireSignedIn(pr);
    const { id } = request.params as { id: string };
    try {
      await core.enrollment.removeFactor(session.username, id, coreContext(pr), proof(session));
    } catch (error) {
      return stepUpOr(reply, error, BASE);
    }
    return reply.redirect(`${BASE}?done=removed`, 303);
  });

  // ---------------------------------------------------------------- mobile app (web authenticator)

  /** Where the activation page sends the user once the phone is activated. */
  function afterActivation(session: Session): { href: string; signInAgain: boolean } {
    // A first enrollment's password-only session proves nothing about the phone: sign in with it.
    if (session.level < 2) return { href: `${BASE}/login/restart`, signInAgain: true };
    return { href: inWizard(session) ? `${BASE}/setup` : BASE, signInAgain: false };
  }

  app.get(`${BASE}/mobile`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    if (!mobileAllowed) throw new MfaError('not_found', { detail: 'mobile app activation is off' });
    const { session, overview } = await enrolling(pr);
    return render(ctx, request, reply, pr, 'mobile', {
      wizard: wizardInfo(session, overview, 'authenticator'),
      authenticatorInstead: overview.factors.length === 0,
    });
  });

  app.post(`${BASE}/mobile`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    if (!mobileAllowed) throw new MfaError('not_found', { detail: 'mobile app activation is off' });
    const { session, overview } = await enrolling(pr);
    let issued: { code: string; expiresAt: number };
    try {
      issued = await core.enrollment.issueActivationCode(session.username, coreContext(pr), proof(session));
    } catch (error) {
      // Too many devices or not allowed here go to the error page with their message.
      return stepUpOr(reply, error, `${BASE}/mobile`);
    }
    const link = new URL('/mobile/app/activate', config.server.publicUrl);
    link.searchParams.set('c', issued.code);
    const minutes = Math.max(1, Math.round((issued.expiresAt - clock.now()) / 60_000));
    return render(ctx, request, reply, pr, 'mobile', {
      code: issued.code,
      url: link.href,
      qrSvg: await QRCode.toString(link.href, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
      validFor: new Intl.NumberFormat(pr.lang, { style: 'unit', unit: 'minute', unitDisplay: 'long' }).format(
        minutes,
      ),
      until: new Intl.DateTimeFormat(pr.lang, { timeStyle: 'short' }).format(issued.expiresAt),
      untilIso: new Date(issued.expiresAt).toISOString(),
      next: afterActivation(session),
      wizard: wizardInfo(session, overview, 'authenticator'),
    });
  });

  // ---------------------------------------------------------------- phones, PIN, questions

  const phoneData = async (session: Session, overview: Overview) => ({
    phone: overview.user.phones[0] ?? '',
    backupPhone: overview.user.phones[1] ?? '',
    askBackup: portal.enrollment.promptBackupPhone,
    wizard: wizardInfo(session, overview, 'phone'),
  });

  app.get(`${BASE}/phone`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    const { session, overview } = await enrolling(pr);
    return render(ctx, request, reply, pr, 'phone', await phoneData(session, overview));
  });

  app.post(`${BASE}/phone`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const { session, overview } = await enrolling(pr);
    if ((request.body as Record<string, unknown>).skip === '1' && inWizard(session)) {
      await updatePortalSession(ctx, reply, pr, { draft: { ...session.draft, phone: 'done' } });
      return afterChange(reply, pr, 'phone');
    }
    const primary = formField(request.body, 'phone', 32, true).trim();
    const backup = formField(request.body, 'backupPhone', 32, true).trim();
    const failed = await change(
      request,
      reply,
      pr,
      { name: 'phone', rd: `${BASE}/phone`, data: () => phoneData(session, overview) },
      () =>
        core.enrollment.setPhones(
          session.username,
          { ...(primary ? { primary } : {}), ...(backup ? { backup } : {}) },
          coreContext(pr),
          proof(session),
        ),
    );
    if (failed) return failed;
    if (inWizard(session))
      await updatePortalSession(ctx, reply, pr, { draft: { ...session.draft, phone: 'done' } });
    return afterChange(reply, pr, 'phone');
  });

  const pinData = async (session: Session, overview: Overview) => ({
    minLength: portal.pin.minLength,
    maxLength: portal.pin.maxLength,
    wizard: wizardInfo(session, overview, 'pin'),
  });

  app.get(`${BASE}/pin`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    const { session, overview } = await enrolling(pr);
    return render(ctx, request, reply, pr, 'pin', await pinData(session, overview));
  });

  app.post(`${BASE}/pin`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const { session, overview } = await enrolling(pr);
    const pin = formField(request.body, 'pin', 32);
    const confirm = formField(request.body, 'pinConfirm', 32);
    const failed = await change(
      request,
      reply,
      pr,
      { name: 'pin', rd: `${BASE}/pin`, data: () => pinData(session, overview) },
      async () => {
        if (pin !== confirm)
          throw new MfaError('input.invalid', { field: 'pinConfirm', detail: 'the PINs differ' });
        await core.enrollment.setPin(session.username, pin, coreContext(pr), proof(session));
      },
    );
    return failed ?? afterChange(reply, pr, 'pin');
  });

  const questionData = async (pr: PortalRequest, session: Session, overview: Overview) => ({
    count: portal.securityQuestions.count,
    questions: portal.securityQuestions.questions.map((q) => ({
      id: q.id,
      text: q.text[pr.lang] ?? q.text[portal.defaultLanguage] ?? q.id,
    })),
    wizard: wizardInfo(session, overview, 'questions'),
  });

  app.get(`${BASE}/questions`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    if (!portal.securityQuestions.enabled) throw new MfaError('not_found');
    const { session, overview } = await enrolling(pr);
    return render(ctx, request, reply, pr, 'questions', await questionData(pr, session, overview));
  });

  app.post(`${BASE}/questions`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    if (!portal.securityQuestions.enabled) throw new MfaError('not_found');
    const { session, overview } = await enrolling(pr);
    const answers = Array.from({ length: portal.securityQuestions.count }, (_, i) => ({
      questionId: formField(request.body, `question_${i + 1}`, 64),
      answer: formField(request.body, `answer_${i + 1}`, 200),
    }));
    const failed = await change(
      request,
      reply,
      pr,
      { name: 'questions', rd: `${BASE}/questions`, data: () => questionData(pr, session, overview) },
      () => core.enrollment.setSecurityAnswers(session.username, answers, coreContext(pr), proof(session)),
    );
    return failed ?? afterChange(reply, pr, 'questions');
  });

  // ---------------------------------------------------------------- method, language, bypass, step-up

  app.post(`${BASE}/method`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const session = requireSignedIn(pr);
    if (!portal.allowSelectMethod)
      throw new MfaError('auth.forbidden', { detail: 'method selection is off' });
    const method = formField(request.body, 'method', 16) as Method;
    await core.enrollment.setMethod(session.username, method, coreContext(pr));
    return reply.redirect(`${BASE}?done=method`, 303);
  });

  app.post(`${BASE}/language`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const session = requireSignedIn(pr);
    if (!portal.allowSelectLanguage)
      throw new MfaError('auth.forbidden', { detail: 'language selection is off' });
    const language = formField(request.body, 'language', 8);
    if (language !== '' && !ctx.i18n.languages.includes(language))
      throw new MfaError('input.invalid', { field: 'language', detail: 'no such catalogue' });
    await core.enrollment.setLanguage(session.username, language || null, coreContext(pr));
    const { lang: _old, ...draft } = session.draft ?? {};
    await updatePortalSession(ctx, reply, pr, { draft: language ? { ...draft, lang: language } : draft });
    return reply.redirect(`${BASE}?done=language`, 303);
  });

  app.post(`${BASE}/bypass`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const session = requireSignedIn(pr);
    const raw = formField(request.body, 'seconds', 8, true).trim();
    const seconds = raw === '' ? portal.userBypass.defaultSeconds : Number(raw);
    let expiresAt: number;
    try {
      ({ expiresAt } = await core.enrollment.issueUserBypass(
        session.username,
        seconds,
        coreContext(pr),
        proof(session),
      ));
    } catch (error) {
      return stepUpOr(reply, error, BASE);
    }
    return render(ctx, request, reply, pr, 'bypass', {
      expiresAt,
      remaining: `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`,
      until: new Intl.DateTimeFormat(pr.lang, { timeStyle: 'medium' }).format(expiresAt),
    });
  });

  /** Only portal paths are return targets of the step-up page. */
  const stepUpTarget = (rd: unknown) =>
    typeof rd === 'string' && /^\/enroll(\/[a-z/-]*)?$/.test(rd) ? rd : BASE;

  app.get(`${BASE}/stepup`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    requireSignedIn(pr);
    return render(ctx, request, reply, pr, 'stepup', {
      rd: stepUpTarget((request.query as Record<string, unknown>).rd),
      digits: config.auth.totp.digits,
    });
  });

  app.post(`${BASE}/stepup`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const session = requireSignedIn(pr);
    const rd = stepUpTarget((request.body as Record<string, unknown>).rd);
    const code = formField(request.body, 'code', 16).trim();
    let at: number;
    try {
      at = await core.enrollment.stepUp(session.username, code, coreContext(pr));
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.spec.httpStatus >= 500 || failure.code === 'auth.locked') throw failure;
      return render(
        ctx,
        request,
        reply,
        pr,
        'stepup',
        { rd, digits: config.auth.totp.digits, error: failure.publicMessage },
        401,
      );
    }
    await updatePortalSession(ctx, reply, pr, { stepUpAt: at });
    return reply.redirect(rd, 303);
  });
}
