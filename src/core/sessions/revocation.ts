// Revocation of self-contained sessions: logout revokes one session id; disabling a user or a fraud
// report revokes every session the user holds. Entries live as long as the longest session could,
// so the denylist stays small and is swept like the challenges.
import type { Clock, SessionRevocationStore } from '../ports.ts';

export interface SessionRef {
  id: string;
  username: string;
  /** When the session (its first factor) began; a user-wide revocation at or after it applies. */
  issuedAt: number;
}

export function createSessionRevocation(deps: {
  store: SessionRevocationStore;
  clock: Clock;
  /** The absolute maximum age of a session: no revocation needs to outlive it. */
  sessionMaxAgeMs: number;
}) {
  const { store, clock, sessionMaxAgeMs } = deps;
  const until = () => clock.now() + sessionMaxAgeMs;

  return {
    revokeSession: (sessionId: string) => store.revokeSession(sessionId, until()),
    revokeUser: (username: string) => store.revokeUserSessions(username, clock.now(), until()),
    async isRevoked(session: SessionRef): Promise<boolean> {
      const found = await store.findRevocations(session.id, session.username);
      return found.session || (found.userBefore !== null && session.issuedAt <= found.userBefore);
    },
    sweep: () => store.deleteExpiredRevocations(clock.now()),
  };
}

export type SessionRevocation = ReturnType<typeof createSessionRevocation>;
