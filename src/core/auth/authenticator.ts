// The authentication flow shared by every channel (web, RADIUS, portal, SDK): the primary check
// against the directory, then the user's second factor through a short-lived challenge, then the
// decision. Every step throws a catalogue error; every outcome is audited and regulated. Security
// questions stand in for the second factor when the administrator allows it.
import { isMfaError, MfaError, toMfaError } from '../errors.ts';
import type { TotpCheck } from '../factors/totp.ts';
import type {
  AuditEvent,
  AuditSink,
  BypassStore,
  Challenge,
  ChallengeStore,
  Clock,
  Directory,
  DirectoryUser,
  FactorStore,
  Method,
  PushRequest,
  Random,
  RequestContext,
  SecurityAnswerStore,
  UserRecord,
  UserStore,
} from '../ports.ts';
import type { PushApprovals } from '../push/push-approvals.ts';
import type { Regulator } from '../regulation/regulator.ts';
import type { SecretHasher } from '../secrets/secret-hash.ts';
import { createQuestionFallback } from './question-fallback.ts';

export interface AuthSettings {
  requireUserMatch: 'reject' | 'primary-only';
  primaryMinDurationMs: number;
  challengeTtlSeconds: number;
  maxAttempts: number;
  /** Security answers needed instead of the second factor; 0 turns the fallback off. */
  answersRequired: number;
  /** A code from the authenticator is accepted while a push is pending (`portal.oathFallback`). */
  codeWithPush: boolean;
}

export interface AuthDeps {
  directory: Directory;
  users: UserStore;
  challenges: ChallengeStore;
  factors: Pick<FactorStore, 'listTotpFactors'>;
  bypasses: Pick<BypassStore, 'consumeBypass'>;
  answers: Pick<SecurityAnswerStore, 'listSecurityAnswers'>;
  hasher: Pick<SecretHasher, 'verify'>;
  verifyTotp: (userId: string, code: string) => Promise<TotpCheck>;
  regulator: Regulator;
  audit: AuditSink;
  clock: Clock;
  random: Random;
  settings: AuthSettings;
  /** Push approvals, when the mobile service runs. */
  push?: Pick<PushApprovals, 'available' | 'open' | 'get' | 'claim' | 'cancelFor'>;
}

/** Where a sign-in stands after the password: done (one factor), or waiting for the second factor. */
export type PrimaryOutcome =
  | {
      kind: 'authenticated';
      /**
       * 1: only the password was asked for (the caller needed no more). 2: the second factor is
       * satisfied without a step: a one-time bypass was spent, `requireUserMatch: primary-only`
       * let a user unknown to the store through on the password (the rollout setting), or the
       * caller's fail-open setting did while the store was down.
       */
      level: 1 | 2;
      /** `fail_open`: the second factor could not be asked for and the caller allowed the password alone. */
      via: 'password' | 'bypass' | 'primary_only' | 'fail_open';
      username: string;
      directoryUser: DirectoryUser;
      user: UserRecord | undefined;
    }
  | {
      /** Known to the store but with nothing to prove the second factor with (enrol first). */
      kind: 'no_second_factor';
      username: string;
      directoryUser: DirectoryUser;
      user: UserRecord;
    }
  | {
      kind: 'second_factor';
      username: string;
      challenge: Challenge;
      /** The push the phone was sent, when the challenge's method is `push`: its number goes on the page. */
      push?: PushRequest;
      directoryUser: DirectoryUser;
      user: UserRecord;
    };

/** Where the second factor stands once the first is settled (PrimaryOutcome without the directory's word). */
export type SecondFactorStart =
  | { kind: 'authenticated'; level: 2; via: 'bypass'; username: string; user: UserRecord }
  | { kind: 'no_second_factor'; username: string; user: UserRecord }
  | { kind: 'second_factor'; username: string; challenge: Challenge; push?: PushRequest; user: UserRecord };

export interface Authenticated {
  kind: 'authenticated';
  level: 2;
  username: string;
  user: UserRecord;
}

/**
 * How a caller can ask for the second factor: on a page (a push shows its number there), only out of
 * band (Basic, RADIUS: the phone asks approve/deny without a number), or with a code the client
 * already sent (appended to the password: no push is sent).
 */
export type SecondFactorPrompt = 'page' | 'out-of-band' | 'code';

export const canonicalUsername = (username: string) => username.trim().toLowerCase();

export interface StartOptions {
  need?: 1 | 2;
  ask?: SecondFactorPrompt;
  /** Overrides `settings.requireUserMatch` for one caller (a RADIUS client has its own). */
  requireUserMatch?: AuthSettings['requireUserMatch'];
  /**
   * When the second factor cannot be asked for because a component is down (the store), accept a
   * password the directory verified. Never on a wrong password, or a locked, disabled or unknown user.
   */
  failOpen?: boolean;
  /**
   * The second factor to ask for instead of the user's default method (an SDK caller's choice):
   * `push` with no activated phone ends in `no_second_factor`; `code` never sends a push.
   */
  method?: 'push' | 'code';
}

/** Failures of our own components, as opposed to answers about the user. */
const isOutage = (error: MfaError) => error.code === 'store.unavailable' || error.code === 'internal';

export function createAuthenticator(deps: AuthDeps) {
  const { directory, users, challenges, factors, bypasses, regulator, audit, clock, random, settings } = deps;
  const questions = createQuestionFallback({
    answers: deps.answers,
    hasher: deps.hasher,
    challenges,
    answersRequired: settings.answersRequired,
  });

  const event = (
    ctx: RequestContext,
    fields: Pick<AuditEvent, 'type' | 'outcome' | 'username' | 'reason'>,
    detail?: string,
  ) =>
    audit.record({
      at: clock.now(),
      channel: ctx.channel,
      clientAddress: ctx.clientAddress,
      application: ctx.application ?? null,
      actor: null,
      details:
        detail || ctx.nas ? { ...(detail ? { detail } : {}), ...(ctx.nas ? { nas: ctx.nas } : {}) } : null,
      ...fields,
    });

  async function findStoreUser(
    directoryUser: DirectoryUser,
    username: string,
  ): Promise<UserRecord | undefined> {
    return (await users.findUserByUniqueId(directoryUser.uniqueId)) ?? (await users.findUserByName(username));
  }

  function assertUsable(user: UserRecord): void {
    if (user.status === 'disabled') throw new MfaError('auth.user_disabled');
    if (user.status === 'blocked')
      throw new MfaError('auth.locked', { detail: 'user blocked (fraud report)' });
  }

  async function openChallenge(user: UserRecord, ctx: RequestContext, method: Method): Promise<Challenge> {
    const now = clock.now();
    const challenge: Challenge = {
      id: Buffer.from(random.bytes(18)).toString('base64url'),
      userId: user.id,
      username: user.username,
      channel: ctx.channel,
      clientAddress: ctx.clientAddress,
      method,
      attempts: 0,
      maxAttempts: settings.maxAttempts,
      createdAt: now,
      expiresAt: now + settings.challengeTtlSeconds * 1000,
    };
    await challenges.createChallenge(challenge);
    return challenge;
  }

  /** Failures of the password step are answered no sooner than the floor: no timing oracle for usernames. */
  async function equaliseTiming(startedAt: number): Promise<void> {
    await clock.sleep(settings.primaryMinDurationMs - (clock.now() - startedAt));
  }

  /** After the first factor, for a user who needs a second: bypass, nothing enrolled, or a challenge. */
  async function secondFactorStep(
    user: UserRecord,
    ctx: RequestContext,
    options: Pick<StartOptions, 'ask' | 'method'>,
  ): Promise<SecondFactorStart> {
    const base = { username: user.username, user };
    const bypass = await bypasses.consumeBypass(user.id, clock.now());
    if (bypass) {
      await event(ctx, { type: 'auth.bypass', outcome: 'success', username: user.username, reason: null });
      await regulator.recordSuccess(user.username);
      return { kind: 'authenticated', level: 2, via: 'bypass', ...base };
    }
    const nothingToAsk = async (detail?: string): Promise<SecondFactorStart> => {
      await event(
        ctx,
        {
          type: 'auth.second_factor',
          outcome: 'failure',
          username: user.username,
          reason: 'auth.no_second_factor',
        },
        detail,
      );
      return { kind: 'no_second_factor', ...base };
    };
    if ((await factors.listTotpFactors(user.id)).length === 0) return nothingToAsk();
    const ask = options.ask ?? 'page';
    const method = options.method ?? (ask !== 'code' && user.defaultMethod === 'push' ? 'push' : 'code');
    const push = deps.push;
    if (method === 'push' && push && (await push.available(user))) {
      // The push is sent before the challenge exists: a refused push (one already pending
      // elsewhere) leaves nothing behind.
      const request = await push.open(user, ctx, { outOfBand: ask === 'out-of-band' });
      return {
        kind: 'second_factor',
        challenge: await openChallenge(user, ctx, 'push'),
        push: request,
        ...base,
      };
    }
    // The user's default falls back to a code when there is no phone; a caller's explicit choice does not.
    if (options.method === 'push') return nothingToAsk('push asked for, but no phone is activated');
    return { kind: 'second_factor', challenge: await openChallenge(user, ctx, 'totp'), ...base };
  }

  /**
   * Step one: the password. Unknown users, wrong passwords, locked and disabled accounts and a
   * directory outage all end in an error whose public message is the same. `need: 1` stops after
   * the password (an app that asks for one factor); the default goes on to the second factor.
   * `ask` says how the caller can ask for the second factor (see SecondFactorPrompt).
   */
  async function startLogin(
    rawUsername: string,
    password: string,
    ctx: RequestContext,
    options: StartOptions = {},
  ): Promise<PrimaryOutcome> {
    const startedAt = clock.now();
    const username = canonicalUsername(rawUsername);
    let verified: DirectoryUser | undefined;
    try {
      await regulator.assertAllowed(username, ctx).catch((error: unknown) => {
        // Fail open: the lockout state cannot be read while the store is down; the password still is checked.
        if (!(options.failOpen && isOutage(toMfaError(error)))) throw error;
      });
      const directoryUser = await directory
        .authenticate(rawUsername.trim(), password)
        .catch(async (error: unknown) => {
          // An outage is not the user's failure: it must not lock them out.
          if (!isMfaError(error, 'directory.unavailable')) await regulator.recordFailure(username, ctx);
          throw error;
        });
      verified = directoryUser;
      const user = await findStoreUser(directoryUser, username);
      if (!user) {
        const requireUserMatch = options.requireUserMatch ?? settings.requireUserMatch;
        if (requireUserMatch === 'reject') throw new MfaError('auth.user_not_enrolled');
        await event(ctx, {
          type: 'auth.primary',
          outcome: 'success',
          username,
          reason: 'primary_only_unknown_user',
        });
        return {
          kind: 'authenticated',
          level: options.need === 1 ? 1 : 2,
          via: 'primary_only',
          username,
          directoryUser,
          user: undefined,
        };
      }
      assertUsable(user);
      await event(ctx, { type: 'auth.primary', outcome: 'success', username: user.username, reason: null });
      if (options.need === 1) {
        await regulator.recordSuccess(user.username);
        return {
          kind: 'authenticated',
          level: 1,
          via: 'password',
          username: user.username,
          directoryUser,
          user,
        };
      }
      return { ...(await secondFactorStep(user, ctx, options)), directoryUser };
    } catch (error) {
      const failure = toMfaError(error);
      if (options.failOpen && verified && isOutage(failure))
        return failOpen(verified, username, failure, ctx);
      return failedStart(username, ctx, failure, startedAt);
    }
  }

  /** A start that failed: audited as a failed first step, held to the timing floor, thrown. */
  async function failedStart(
    username: string,
    ctx: RequestContext,
    failure: MfaError,
    startedAt: number,
  ): Promise<never> {
    await event(
      ctx,
      { type: 'auth.primary', outcome: 'failure', username, reason: failure.code },
      failure.detail,
    );
    await equaliseTiming(startedAt);
    throw failure;
  }

  /**
   * The second factor alone, for an integration that checked the password itself (SDK): no bind,
   * so only users of the store qualify, but the lockout, disabled and blocked users, enrollment,
   * timing floor and audit are those of startLogin. The audit log names the application whose word
   * stood in for the password.
   */
  async function startSecondFactor(
    rawUsername: string,
    ctx: RequestContext,
    options: Pick<StartOptions, 'ask' | 'method'> = {},
  ): Promise<SecondFactorStart> {
    const startedAt = clock.now();
    const username = canonicalUsername(rawUsername);
    try {
      await regulator.assertAllowed(username, ctx);
      const user = await users.findUserByName(username);
      if (!user)
        throw new MfaError('auth.user_not_enrolled', { detail: 'second factor only: not in the store' });
      assertUsable(user);
      await event(ctx, {
        type: 'auth.primary',
        outcome: 'success',
        username: user.username,
        reason: 'asserted_by_application',
      });
      return await secondFactorStep(user, ctx, options);
    } catch (error) {
      const failure = toMfaError(error);
      return failedStart(username, ctx, failure, startedAt);
    }
  }

  /**
   * The password was verified but the second factor cannot be asked for. The audit line reaches
   * the JSON log before the store is tried, so the acceptance is on record even while the store is down.
   */
  async function failOpen(
    directoryUser: DirectoryUser,
    username: string,
    failure: MfaError,
    ctx: RequestContext,
  ): Promise<PrimaryOutcome> {
    await event(
      ctx,
      { type: 'auth.fail_open', outcome: 'success', username, reason: failure.code },
      failure.detail,
    ).catch(() => {});
    return { kind: 'authenticated', level: 2, via: 'fail_open', username, directoryUser, user: undefined };
  }

  async function loadChallenge(id: string, ctx: RequestContext): Promise<Challenge> {
    const challenge = await challenges.getChallenge(id);
    if (!challenge) throw new MfaError('auth.challenge_expired', { detail: 'unknown or used challenge' });
    if (challenge.expiresAt <= clock.now()) {
      await challenges.consumeChallenge(id);
      throw new MfaError('auth.challenge_expired');
    }
    // A challenge opened by one channel cannot be answered through another.
    if (challenge.channel !== ctx.channel)
      throw new MfaError('auth.challenge_expired', { detail: 'channel mismatch' });
    return challenge;
  }

  async function spendAttempt(challenge: Challenge): Promise<number> {
    const attempts = await challenges.countChallengeAttempt(challenge.id);
    if (attempts === undefined) {
      await challenges.consumeChallenge(challenge.id);
      throw new MfaError('auth.too_many_attempts');
    }
    return attempts;
  }

  async function checkCode(challenge: Challenge, code: string, attempts: number): Promise<void> {
    const check = await deps.verifyTotp(challenge.userId ?? '', code);
    if (check.ok) return;
    // The last allowed attempt closes the challenge: the user starts again with the password.
    if (attempts >= challenge.maxAttempts) await challenges.consumeChallenge(challenge.id);
    throw new MfaError(check.reason === 'no_factor' ? 'auth.no_second_factor' : 'auth.invalid_code', {
      detail: check.reason,
    });
  }

  /**
   * The security questions to show for an open challenge instead of the code (see question-fallback.ts);
   * empty when the fallback is off or the user has answered too few.
   */
  async function fallbackQuestions(challengeId: string, ctx: RequestContext): Promise<string[]> {
    return questions.questionsFor(await loadChallenge(challengeId, ctx));
  }

  /**
   * The end of every second-factor step: the challenge is checked and spends an attempt, `check`
   * proves the factor, the challenge is consumed (once), and the outcome is regulated and audited.
   */
  async function completeWith(
    challengeId: string,
    ctx: RequestContext,
    via: string,
    check: (challenge: Challenge, attempts: number) => Promise<void>,
  ): Promise<Authenticated> {
    let username: string | null = null;
    try {
      const challenge = await loadChallenge(challengeId, ctx);
      username = challenge.username;
      await regulator.assertAllowed(challenge.username, ctx);
      const attempts = await spendAttempt(challenge);
      await check(challenge, attempts).catch(async (error: unknown) => {
        // A push answer was regulated where the phone gave it (a wrong number counts there).
        if (!isMfaError(error, 'auth.push_denied')) await regulator.recordFailure(challenge.username, ctx);
        throw error;
      });
      if (!(await challenges.consumeChallenge(challenge.id))) {
        throw new MfaError('auth.challenge_expired', { detail: 'challenge consumed concurrently' });
      }
      const user = challenge.userId ? await users.getUser(challenge.userId) : undefined;
      if (!user) throw new MfaError('auth.user_not_enrolled', { detail: 'user removed during sign-in' });
      assertUsable(user);
      await regulator.recordSuccess(user.username);
      await event(ctx, {
        type: 'auth.second_factor',
        outcome: 'success',
        username: user.username,
        reason: via,
      });
      return { kind: 'authenticated', level: 2, username: user.username, user };
    } catch (error) {
      const failure = toMfaError(error);
      await event(
        ctx,
        { type: 'auth.second_factor', outcome: 'failure', username, reason: failure.code },
        failure.detail,
      );
      throw failure;
    }
  }

  /**
   * Step two: the code for an open challenge. A challenge is used once and allows a few attempts.
   * On a push challenge a code stands in for the phone when allowed, and the push is withdrawn.
   */
  async function completeLogin(
    challengeId: string,
    code: string,
    ctx: RequestContext,
  ): Promise<Authenticated> {
    const done = await completeWith(challengeId, ctx, 'totp', async (challenge, attempts) => {
      if (challenge.method === 'push' && !settings.codeWithPush)
        throw new MfaError('auth.invalid_code', { detail: 'codes are not accepted instead of the push' });
      await checkCode(challenge, code, attempts);
    });
    await deps.push?.cancelFor(done.user.id, ctx);
    return done;
  }

  /**
   * Step two by push: the request the phone answered. It must belong to this challenge's user and
   * place, and have been approved after the challenge opened, so an old approval cannot be reused.
   * A request still waiting throws `auth.push_pending` without spending an attempt.
   */
  async function completeWithPush(
    challengeId: string,
    requestId: string,
    ctx: RequestContext,
  ): Promise<Authenticated> {
    const request = await deps.push?.get(requestId);
    if (request?.state === 'pending' && request.expiresAt > clock.now())
      throw new MfaError('auth.push_pending');
    return completeWith(challengeId, ctx, 'push', async (challenge) => {
      const bound =
        request !== undefined &&
        challenge.method === 'push' &&
        request.userId === challenge.userId &&
        request.channel === challenge.channel &&
        request.clientAddress === challenge.clientAddress &&
        request.answeredAt !== null &&
        request.answeredAt >= challenge.createdAt;
      if (!bound)
        throw new MfaError('auth.push_denied', { detail: 'request does not belong to this sign-in' });
      if (request.state !== 'approved') {
        // One answer, one outcome: a denial ends the sign-in (the user starts again).
        await challenges.consumeChallenge(challenge.id);
        throw new MfaError('auth.push_denied', {
          detail: `${request.state}${request.reason ? `: ${request.reason}` : ''}`,
        });
      }
      if (!(await deps.push?.claim(request.id, challenge.id)))
        throw new MfaError('auth.push_denied', { detail: 'approval already used by another sign-in' });
    });
  }

  /**
   * "push" typed at a code prompt (RADIUS challenge): the open challenge is exchanged for one
   * answered by the phone, out of band, when the user has one.
   */
  async function pushInstead(
    challengeId: string,
    ctx: RequestContext,
  ): Promise<{ challenge: Challenge; push: PushRequest }> {
    const push = deps.push;
    const open = await loadChallenge(challengeId, ctx);
    const user = open.userId ? await users.getUser(open.userId) : undefined;
    if (!user) throw new MfaError('auth.user_not_enrolled', { detail: 'user removed during sign-in' });
    assertUsable(user);
    if (!push || !(await push.available(user)))
      throw new MfaError('auth.no_second_factor', { detail: 'push asked for, but no phone is activated' });
    if (!(await challenges.consumeChallenge(open.id)))
      throw new MfaError('auth.challenge_expired', { detail: 'challenge consumed concurrently' });
    const request = await push.open(user, ctx, { outOfBand: true });
    return { challenge: await openChallenge(user, ctx, 'push'), push: request };
  }

  /** Step two by security questions instead of the factor: the same attempts, regulation and audit. */
  async function completeWithAnswers(
    challengeId: string,
    questionIds: string[],
    given: Record<string, string>,
    ctx: RequestContext,
  ): Promise<Authenticated> {
    const done = await completeWith(challengeId, ctx, 'security_questions', (challenge, attempts) =>
      questions.checkAnswers(challenge, questionIds, given, attempts),
    );
    // Like a code, the answers stand in for the phone: it stops showing the request.
    await deps.push?.cancelFor(done.user.id, ctx);
    return done;
  }

  /**
   * A code checked on its own, for integrations that ask the user themselves (SDK "verify a code"):
   * the same lockout, replay guard and audit as a sign-in's second step.
   */
  async function verifyCode(rawUsername: string, code: string, ctx: RequestContext): Promise<UserRecord> {
    const username = canonicalUsername(rawUsername);
    try {
      await regulator.assertAllowed(username, ctx);
      const user = await users.findUserByName(username);
      if (!user) throw new MfaError('auth.invalid_code', { detail: 'unknown user' });
      assertUsable(user);
      const check = await deps.verifyTotp(user.id, code);
      if (!check.ok) {
        await regulator.recordFailure(username, ctx);
        throw new MfaError(check.reason === 'no_factor' ? 'auth.no_second_factor' : 'auth.invalid_code', {
          detail: check.reason,
        });
      }
      await regulator.recordSuccess(username);
      await event(ctx, { type: 'auth.code_check', outcome: 'success', username, reason: null });
      return user;
    } catch (error) {
      const failure = toMfaError(error);
      await event(
        ctx,
        { type: 'auth.code_check', outcome: 'failure', username, reason: failure.code },
        failure.detail,
      );
      throw failure;
    }
  }

  return {
    startLogin,
    startSecondFactor,
    verifyCode,
    completeLogin,
    completeWithPush,
    pushInstead,
    fallbackQuestions,
    completeWithAnswers,
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
