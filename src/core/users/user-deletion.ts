// Deleting a user, and the GDPR erasure that also pseudonymises their audit events. Everything the
// store holds about them goes in one transaction; their sessions are revoked first, so a failed
// deletion can only have signed them out, never left a cookie working for a user who is gone.
import { MfaError } from '../errors.ts';
import type { AuditSink, Clock, UserDeletionCounts, UserDeletionStore, UserStore } from '../ports.ts';
import { userSubject } from '../regulation/regulator.ts';
import type { SessionRevocation } from '../sessions/revocation.ts';
import { eraseAuditEvent, pseudonymOf } from './audit-erasure.ts';
import type { AdminContext } from './user-admin.ts';

export interface UserDeletionResult {
  /** The name the audit log knows them by from now on: theirs, or the pseudonym after an erasure. */
  auditName: string;
  counts: UserDeletionCounts;
}

export function createUserDeletion(deps: {
  users: Pick<UserStore, 'findUserByName'>;
  store: UserDeletionStore;
  sessions: Pick<SessionRevocation, 'revokeUser'>;
  audit: AuditSink;
  clock: Clock;
  /** `pseudonymKey(pepper)`. */
  pseudonymKey: Uint8Array;
}) {
  const { users, store, sessions, audit, clock } = deps;

  return {
    /**
     * Deletes the user and every row about them. A plain deletion keeps their audit events as they
     * are (the security record of what happened, including this deletion). `erase` also rewrites
     * them (see audit-erasure.ts) and audits the deletion under the pseudonym.
     *
     * One row outlives the user on purpose: the session cut-off (`user:<name>` in the revocation
     * list), because sessions are self-contained cookies and nothing else stops one issued before
     * the deletion. It is swept once the longest session it could affect has expired.
     */
    async delete(
      username: string,
      options: { erase: boolean },
      ctx: AdminContext,
    ): Promise<UserDeletionResult> {
      const user = await users.findUserByName(username);
      if (!user) throw new MfaError('user.not_found', { detail: username });
      const pseudonym = pseudonymOf(deps.pseudonymKey, user.username);
      await sessions.revokeUser(user.username);
      const counts = await store.deleteUser(
        { id: user.id, username: user.username },
        {
          regulationSubjects: [userSubject(user.username)],
          ...(options.erase
            ? {
                erase: {
                  username: user.username,
                  rewrite: (event) => eraseAuditEvent(event, user.username, pseudonym),
                },
              }
            : {}),
        },
      );
      // Deleted (or renamed) by someone else between the lookup and the transaction.
      if (!counts) throw new MfaError('user.not_found', { detail: username });
      const auditName = options.erase ? pseudonym : user.username;
      await audit.record({
        at: clock.now(),
        type: 'admin.user_delete',
        outcome: 'success',
        channel: ctx.channel,
        username: auditName,
        clientAddress: ctx.clientAddress,
        reason: options.erase ? 'erasure' : null,
        actor: ctx.actor,
        application: null,
        details: { ...counts, erased: options.erase },
      });
      return { auditName, counts };
    },
  };
}

export type UserDeletion = ReturnType<typeof createUserDeletion>;
