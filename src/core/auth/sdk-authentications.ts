// Authentications an integration starts through the SDK and reads back by id: the password and the
// second factor, or the second factor alone; answered by push (polled, long polled, or waited for
// at the start) or by a code. The state is a store row, never process memory, so any node sharing
// the store answers a poll; the result is recorded once (a conditional update) and outlives the
// challenge that produced it. The core's own rules decide every step: this module only keeps score.
import { MfaError, toMfaError } from '../errors.ts';
import type {
  ChallengeStore,
  Clock,
  PushRequest,
  Random,
  RequestContext,
  SdkAuthentication,
  SdkAuthenticationStore,
  SdkAuthFinalStatus,
  SdkAuthMethod,
} from '../ports.ts';
import type { PushApprovals } from '../push/push-approvals.ts';
import type { Authenticator } from './authenticator.ts';

export interface SdkAuthenticationDeps {
  authenticator: Pick<
    Authenticator,
    'startLogin' | 'startSecondFactor' | 'completeLogin' | 'completeWithPush'
  >;
  push: Pick<PushApprovals, 'get' | 'stateOf' | 'waitForAnswer'>;
  challenges: Pick<ChallengeStore, 'getChallenge'>;
  store: SdkAuthenticationStore;
  clock: Clock;
  random: Random;
  /** A result decided at once (bypass) is kept as long as a challenge's would be. */
  challengeTtlSeconds: number;
}

export interface StartAuthentication {
  username: string;
  /** Absent: the integration checked the password itself, and only the second factor is asked. */
  password?: string;
  /** Absent: the user's default method. */
  method?: SdkAuthMethod;
  /** Holds the answer up to this long for a push's result (synchronous mode). */
  waitMs?: number;
}

/** Who asks: the account the id is bound to, where the call came from, and when it stops listening. */
export interface SdkCaller {
  accountId: string;
  ctx: RequestContext;
  signal?: AbortSignal;
}

const isOpen = (a: SdkAuthentication) => a.status === 'pending' || a.status === 'code_required';

/** How a push that left `pending` ends the authentication, when it did not approve it. */
function pushVerdict(request: PushRequest | undefined): { status: SdkAuthFinalStatus; reason: string } {
  if (!request) return { status: 'failed', reason: 'push_gone' };
  if (request.state === 'fraud') return { status: 'denied', reason: 'fraud' };
  if (request.state === 'denied')
    return { status: 'denied', reason: request.reason === 'user' ? 'denied' : (request.reason ?? 'denied') };
  if (request.state === 'expired') return { status: 'expired', reason: 'push_expired' };
  // A fraud report on another of the user's requests cancels this one too: the user said no.
  if (request.state === 'cancelled' && request.reason === 'fraud_reported')
    return { status: 'denied', reason: 'fraud' };
  // An approval that another sign-in already claimed, or a push withdrawn.
  return { status: 'failed', reason: request.state === 'approved' ? 'approval_used' : request.state };
}

/** Errors after which the authentication cannot succeed any more; anything else may be retried. */
const ENDS_IT = new Set([
  'auth.too_many_attempts',
  'auth.locked',
  'auth.user_disabled',
  'auth.user_not_enrolled',
]);

export function createSdkAuthentications(deps: SdkAuthenticationDeps) {
  const { authenticator, push, challenges, store, clock, random } = deps;
  const ttlMs = deps.challengeTtlSeconds * 1000;

  /** Another account's authentication is as unknown as one that never existed or was swept. */
  async function load(id: string, accountId: string): Promise<SdkAuthentication> {
    const found = await store.getSdkAuthentication(id);
    if (!found || found.accountId !== accountId || found.keepUntil <= clock.now())
      throw new MfaError('not_found', { detail: 'no such authentication for this account' });
    return found;
  }

  /** The result as stored now (a result recorded elsewhere first is the one that stands). */
  async function reload(authentication: SdkAuthentication): Promise<SdkAuthentication> {
    return (await store.getSdkAuthentication(authentication.id)) ?? authentication;
  }

  async function finish(
    authentication: SdkAuthentication,
    status: SdkAuthFinalStatus,
    reason: string | null,
  ): Promise<SdkAuthentication> {
    const at = clock.now();
    if (await store.finishSdkAuthentication(authentication.id, { status, reason, at }))
      return { ...authentication, status, reason, finishedAt: at };
    return reload(authentication);
  }

  /**
   * The challenge is gone although the authentication is open: a concurrent completion (another
   * node's poll, a code) consumed it and is recording its result, or the deadline passed.
   */
  async function afterChallengeGone(authentication: SdkAuthentication): Promise<SdkAuthentication> {
    const current = await reload(authentication);
    if (isOpen(current) && current.expiresAt <= clock.now()) return finish(current, 'expired', null);
    return current;
  }

  /** The phone answered (or the push ended): the core completes the challenge, or says why not. */
  async function concludePush(
    authentication: SdkAuthentication & { challengeId: string; pushRequestId: string },
    ctx: RequestContext,
  ): Promise<SdkAuthentication> {
    try {
      await authenticator.completeWithPush(authentication.challengeId, authentication.pushRequestId, ctx);
      return await finish(authentication, 'approved', 'push');
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.code === 'auth.push_pending') return reload(authentication);
      if (failure.code === 'auth.challenge_expired') return afterChallengeGone(authentication);
      if (failure.code === 'auth.push_denied') {
        const verdict = pushVerdict(await push.get(authentication.pushRequestId));
        return finish(authentication, verdict.status, verdict.reason);
      }
      if (ENDS_IT.has(failure.code)) return finish(authentication, 'failed', failure.code);
      throw failure;
    }
  }

  /** Brings an open authentication up to date: the deadline, then the push (waiting up to `waitMs`). */
  async function settle(
    authentication: SdkAuthentication,
    caller: SdkCaller,
    waitMs: number,
  ): Promise<SdkAuthentication> {
    if (!isOpen(authentication)) return authentication;
    if (authentication.expiresAt <= clock.now()) return finish(authentication, 'expired', null);
    const { challengeId, pushRequestId } = authentication;
    // A code comes from the integration itself: there is nothing here to wait for.
    if (authentication.status !== 'pending' || !challengeId || !pushRequestId) return authentication;
    const hold = Math.min(waitMs, authentication.expiresAt - clock.now());
    const state =
      hold > 0
        ? await push.waitForAnswer(pushRequestId, hold, caller.signal)
        : await push.stateOf(pushRequestId);
    if (state === 'pending') {
      const current = await reload(authentication);
      return isOpen(current) && current.expiresAt <= clock.now() ? finish(current, 'expired', null) : current;
    }
    return concludePush({ ...authentication, challengeId, pushRequestId }, caller.ctx);
  }

  /**
   * Starts an authentication for `input.username`: with a password through startLogin, without
   * through startSecondFactor, so both apply the core's lockout, user state and audit. Refusals
   * before any second factor (wrong password, locked, nothing enrolled) throw, as they do elsewhere.
   */
  async function start(input: StartAuthentication, caller: SdkCaller): Promise<SdkAuthentication> {
    // Out of band: the integration has no page of ours to show a number on.
    const options = { ask: 'out-of-band' as const, ...(input.method ? { method: input.method } : {}) };
    const outcome =
      input.password === undefined
        ? await authenticator.startSecondFactor(input.username, caller.ctx, options)
        : await authenticator.startLogin(input.username, input.password, caller.ctx, options);
    if (outcome.kind === 'no_second_factor') throw new MfaError('auth.no_second_factor');
    const now = clock.now();
    const common = {
      id: Buffer.from(random.bytes(18)).toString('base64url'),
      accountId: caller.accountId,
      username: outcome.username,
      userId: outcome.user?.id ?? null,
      createdAt: now,
    };
    let authentication: SdkAuthentication;
    if (outcome.kind === 'authenticated') {
      // A one-time bypass, or a user the rollout setting lets through on the password.
      authentication = {
        ...common,
        method: null,
        challengeId: null,
        pushRequestId: null,
        status: 'approved',
        reason: outcome.via,
        expiresAt: now + ttlMs,
        keepUntil: now + 2 * ttlMs,
        finishedAt: now,
      };
    } else {
      const { challenge, push: request } = outcome;
      authentication = {
        ...common,
        method: request ? 'push' : 'code',
        challengeId: challenge.id,
        pushRequestId: request?.id ?? null,
        status: request ? 'pending' : 'code_required',
        reason: null,
        expiresAt: challenge.expiresAt,
        keepUntil: challenge.expiresAt + (challenge.expiresAt - challenge.createdAt),
        finishedAt: null,
      };
    }
    await store.createSdkAuthentication(authentication);
    return settle(authentication, caller, input.waitMs ?? 0);
  }

  /** The result now (`waitMs` 0), or once the phone answers within `waitMs` (long poll). */
  async function get(id: string, caller: SdkCaller, waitMs = 0): Promise<SdkAuthentication> {
    return settle(await load(id, caller.accountId), caller, waitMs);
  }

  /**
   * Completes an open authentication with a code from the user's authenticator (a push one too, when
   * the core accepts codes instead of the phone). A wrong code throws and counts as the core counts
   * it; the attempt that uses up the challenge fails the authentication. A finished one takes no code.
   */
  async function submitCode(id: string, code: string, caller: SdkCaller): Promise<SdkAuthentication> {
    const authentication = await settle(await load(id, caller.accountId), caller, 0);
    const { challengeId } = authentication;
    if (!isOpen(authentication) || !challengeId)
      throw new MfaError('auth.challenge_expired', {
        detail: `authentication already ${authentication.status}`,
      });
    try {
      await authenticator.completeLogin(challengeId, code, caller.ctx);
    } catch (error) {
      const failure = toMfaError(error);
      if (failure.code === 'auth.invalid_code' && !(await challenges.getChallenge(challengeId)))
        await finish(authentication, 'failed', 'auth.too_many_attempts');
      else if (failure.code === 'auth.challenge_expired') await afterChallengeGone(authentication);
      else if (ENDS_IT.has(failure.code)) await finish(authentication, 'failed', failure.code);
      throw failure;
    }
    return finish(authentication, 'approved', 'code');
  }

  return { start, get, submitCode };
}

export type SdkAuthentications = ReturnType<typeof createSdkAuthentications>;
