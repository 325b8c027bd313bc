// What an Access-Request means, once the packet is known to come from a client and to be intact:
// the client's mode decides how the second factor is asked for, and the core decides the rest.
// Every refusal looks the same on the wire (a bare Access-Reject); the reason goes to the log and
// the core's audit.
import type { Authenticator } from '../core/auth/authenticator.ts';
import { canonicalUsername } from '../core/auth/authenticator.ts';
import { toMfaError } from '../core/errors.ts';
import type { AuditSink, Clock, PushRequest, RequestContext, UserRecord } from '../core/ports.ts';
import type { PushApprovals } from '../core/push/push-approvals.ts';
import type { ChallengeStates } from './challenge-states.ts';
import type { RadiusClient } from './clients.ts';
import type { Attribute } from './packet.ts';
import { splitPasscode } from './passcode.ts';
import type { ReauthCache } from './reauth-cache.ts';

export interface AccessRequest {
  client: RadiusClient;
  username: string;
  /** User-Password as text; undefined when the request has none (CHAP and EAP are not supported). */
  password: string | undefined;
  state: Buffer | undefined;
  ctx: RequestContext;
  /** Aborted when the server stops: a waiting request is then dropped. */
  signal: AbortSignal;
}

export type AccessAnswer =
  | { kind: 'accept'; attributes: Attribute[]; reason: string }
  | { kind: 'challenge'; state: Buffer; message: string }
  | { kind: 'reject'; reason: string }
  | { kind: 'drop'; reason: string };

export interface AccessDeps {
  authenticator: Pick<Authenticator, 'startLogin' | 'completeLogin' | 'completeWithPush' | 'pushInstead'>;
  push: Pick<PushApprovals, 'available' | 'waitForAnswer' | 'cancelFor'> | undefined;
  audit: AuditSink;
  clock: Clock;
  states: ChallengeStates;
  reauth: ReauthCache;
  totpDigits: number;
}

const reject = (reason: string): AccessAnswer => ({ kind: 'reject', reason });

export function createAccessHandler(deps: AccessDeps) {
  const { authenticator, states, reauth } = deps;
  /** Out-of-band waits by client and user: a new attempt takes over from the one before. */
  const waiting = new Map<string, AbortController>();

  const accept = (client: RadiusClient, groups: readonly string[], reason: string): AccessAnswer => ({
    kind: 'accept',
    attributes: client.replyAttributes(groups),
    reason,
  });

  async function pushAvailable(user: UserRecord): Promise<boolean> {
    return deps.push !== undefined && (await deps.push.available(user));
  }

  /** A code is refused only for push users on a client without OATH fallback. */
  async function codeAccepted(client: RadiusClient, user: UserRecord): Promise<boolean> {
    return client.config.oathFallback || user.defaultMethod !== 'push' || !(await pushAvailable(user));
  }

  /** The same credentials from the same client within `reauthSeconds`: the password is checked again, not the second factor. */
  async function reauthenticate(request: AccessRequest, password: string, id: string) {
    const { client, ctx } = request;
    if (client.config.reauthSeconds === 0 || !reauth.recalls(id)) return undefined;
    const outcome = await authenticator.startLogin(request.username, password, ctx, {
      need: 1,
      ...(client.config.requireUserMatch ? { requireUserMatch: client.config.requireUserMatch } : {}),
    });
    if (outcome.kind !== 'authenticated') return undefined;
    await deps.audit.record({
      at: deps.clock.now(),
      type: 'auth.second_factor',
      outcome: 'success',
      channel: ctx.channel,
      username: outcome.username,
      clientAddress: ctx.clientAddress,
      reason: 'radius_reauth_cache',
      actor: null,
      application: ctx.application ?? null,
      details: ctx.nas ? { nas: ctx.nas } : null,
    });
    return accept(client, outcome.directoryUser.groups, 'reauthenticated from cache');
  }

  /** Holds the request until the phone answers (or the wait ends), then finishes the sign-in. */
  async function waitForPhone(
    request: AccessRequest,
    challenge: { id: string; userId: string | null },
    push: PushRequest,
    groups: readonly string[],
    reauthId: string,
  ): Promise<AccessAnswer> {
    const { client, ctx } = request;
    const key = `${client.name}\0${canonicalUsername(request.username)}`;
    waiting.get(key)?.abort();
    const takeover = new AbortController();
    waiting.set(key, takeover);
    const signal = AbortSignal.any([request.signal, takeover.signal]);
    try {
      const state = await deps.push?.waitForAnswer(
        push.id,
        client.config.outOfBandWaitSeconds * 1000,
        signal,
      );
      if (takeover.signal.aborted) return { kind: 'drop', reason: 'superseded by a newer attempt' };
      if (request.signal.aborted) return { kind: 'drop', reason: 'server stopping' };
      if (state === 'pending') {
        // Nobody is waiting for the answer any more: the phone stops showing the request.
        if (challenge.userId) await deps.push?.cancelFor(challenge.userId, ctx);
        return reject('the phone did not answer in time');
      }
      await authenticator.completeWithPush(challenge.id, push.id, ctx);
      reauth.remember(reauthId, client.config.reauthSeconds);
      return accept(client, groups, 'approved on the phone');
    } finally {
      if (waiting.get(key) === takeover) waiting.delete(key);
    }
  }

  /** The first request of a sign-in: the password, maybe with a code or "push" appended. */
  async function signIn(request: AccessRequest, text: string): Promise<AccessAnswer> {
    const { client, ctx } = request;
    const { mode } = client.config;
    const parts =
      mode === 'append' || mode === 'auto'
        ? splitPasscode(text, client.config.append.delimiter, deps.totpDigits)
        : { password: text };
    if (mode === 'append' && parts.code === undefined && !parts.push)
      return reject('append mode: no code or "push" after the password');
    const reauthId = reauth.idFor(client.name, canonicalUsername(request.username), parts.password);
    const cached = await reauthenticate(request, parts.password, reauthId);
    if (cached) return cached;
    const outcome = await authenticator.startLogin(request.username, parts.password, ctx, {
      ask: parts.code !== undefined || mode === 'challenge' ? 'code' : 'out-of-band',
      failOpen: client.config.failmode === 'open',
      ...(client.config.requireUserMatch ? { requireUserMatch: client.config.requireUserMatch } : {}),
    });
    if (outcome.kind === 'authenticated')
      return accept(client, outcome.directoryUser.groups, `accepted: ${outcome.via}`);
    if (outcome.kind === 'no_second_factor') return reject('no second factor enrolled');
    const { user, challenge, directoryUser } = outcome;
    const groups = directoryUser.groups;
    if (mode === 'challenge') {
      const state = states.issue(
        {
          client: client.name,
          username: canonicalUsername(request.username),
          challengeId: challenge.id,
          groups,
          codeAllowed: await codeAccepted(client, user),
          pushAllowed: await pushAvailable(user),
          reauthId,
        },
        client.config.challenge.ttlSeconds * 1000,
      );
      return { kind: 'challenge', state, message: client.config.challenge.replyMessage };
    }
    if (parts.code !== undefined) {
      if (!(await codeAccepted(client, user)))
        return reject('codes are not accepted from push users on this client (oathFallback: false)');
      await authenticator.completeLogin(challenge.id, parts.code, ctx);
      reauth.remember(reauthId, client.config.reauthSeconds);
      return accept(client, groups, 'code accepted');
    }
    if (!outcome.push) return reject('out of band needs an activated phone, and this user has none');
    return waitForPhone(request, challenge, outcome.push, groups, reauthId);
  }

  /** The answer to an Access-Challenge: the code, or "push". */
  async function answerChallenge(request: AccessRequest, stateBytes: Buffer): Promise<AccessAnswer> {
    const { client, ctx } = request;
    const open = states.take(stateBytes);
    if (!open) return reject('unknown, used or expired State');
    if (open.client !== client.name || open.username !== canonicalUsername(request.username))
      return reject('State belongs to another client or user');
    const answer = (request.password ?? '').trim();
    if (answer.toLowerCase() === 'push') {
      if (!open.pushAllowed) return reject('"push" typed, but the user has no activated phone');
      const { challenge, push } = await authenticator.pushInstead(open.challengeId, ctx);
      return waitForPhone(request, challenge, push, open.groups, open.reauthId);
    }
    if (!open.codeAllowed)
      return reject('codes are not accepted from push users on this client (oathFallback: false)');
    await authenticator.completeLogin(open.challengeId, answer, ctx);
    reauth.remember(open.reauthId, client.config.reauthSeconds);
    return accept(client, open.groups, 'code accepted');
  }

  return {
    async handle(request: AccessRequest): Promise<AccessAnswer> {
      try {
        if (request.state) return await answerChallenge(request, request.state);
        if (request.password === undefined) return reject('no User-Password (only PAP is supported)');
        return await signIn(request, request.password);
      } catch (error) {
        const failure = toMfaError(error);
        const reason = failure.detail ? `${failure.code}: ${failure.detail}` : failure.code;
        return failure.spec.radius === 'drop' ? { kind: 'drop', reason } : reject(reason);
      }
    },
    /** Pending out-of-band waits, for the benchmark and tests. */
    get waiting(): number {
      return waiting.size;
    },
  };
}

export type AccessHandler = ReturnType<typeof createAccessHandler>;
