// The steps every self-service action starts and ends with: find the user, refuse a disabled or
// blocked account, and write the outcome, success or failure, to the audit log with the user as actor.
import { MfaError, toMfaError } from '../errors.ts';
import type { AuditSink, Clock, RequestContext, UserRecord, UserStore } from '../ports.ts';

export interface Done<T> {
  value: T;
  /** Audit details: counts and ids only, never a secret or a phone number. */
  details?: Record<string, unknown>;
  reason?: string;
}

export function createSelfService(deps: { users: UserStore; audit: AuditSink; clock: Clock }) {
  const { users, audit, clock } = deps;

  async function findUser(username: string): Promise<UserRecord> {
    const user = await users.findUserByName(username);
    if (!user) throw new MfaError('user.not_found', { detail: username });
    return user;
  }

  /** A user found and allowed to act: a session that outlived a disable or a fraud block changes nothing. */
  async function activeUser(username: string): Promise<UserRecord> {
    const user = await findUser(username);
    if (user.status === 'disabled') throw new MfaError('auth.user_disabled');
    if (user.status === 'blocked')
      throw new MfaError('auth.locked', { detail: 'user blocked (fraud report)' });
    return user;
  }

  /** Runs `action` and audits it as `type`: success with its details, or failure with the error code. */
  async function audited<T>(
    ctx: RequestContext,
    type: string,
    username: string,
    action: () => Promise<Done<T>>,
  ): Promise<T> {
    const base = {
      type,
      channel: ctx.channel,
      username: username.trim().toLowerCase(),
      clientAddress: ctx.clientAddress,
      actor: username.trim().toLowerCase(),
      application: ctx.application ?? null,
    };
    let done: Done<T>;
    try {
      done = await action();
    } catch (error) {
      const failure = toMfaError(error);
      await audit.record({
        ...base,
        at: clock.now(),
        outcome: 'failure',
        reason: failure.code,
        details: failure.detail ? { detail: failure.detail } : null,
      });
      throw failure;
    }
    await audit.record({
      ...base,
      at: clock.now(),
      outcome: 'success',
      reason: done.reason ?? null,
      details: done.details ?? null,
    });
    return done.value;
  }

  return { findUser, activeUser, audited };
}

export type SelfService = ReturnType<typeof createSelfService>;
