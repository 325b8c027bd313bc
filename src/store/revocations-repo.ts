// The session denylist: revoked session ids and per-user cut-off times, upserted so that a repeated
// revocation only extends the row.
import type { Kysely } from 'kysely';
import type { SessionRevocationStore } from '../core/ports.ts';
import { toMillis } from './rows.ts';
import type { Database } from './schema.ts';

export function createRevocationsRepo(db: Kysely<Database>): SessionRevocationStore {
  const upsert = (subject: string, revokedAt: number, until: number) =>
    db
      .insertInto('session_revocations')
      .values({ subject, revoked_at: revokedAt, expires_at: until })
      .onConflict((oc) => oc.column('subject').doUpdateSet({ revoked_at: revokedAt, expires_at: until }))
      .execute();

  return {
    async revokeSession(sessionId, until) {
      await upsert(`session:${sessionId}`, 0, until);
    },

    async revokeUserSessions(username, at, until) {
      await upsert(`user:${username}`, at, until);
    },

    async findRevocations(sessionId, username) {
      const rows = await db
        .selectFrom('session_revocations')
        .select(['subject', 'revoked_at'])
        .where('subject', 'in', [`session:${sessionId}`, `user:${username}`])
        .execute();
      const user = rows.find((row) => row.subject.startsWith('user:'));
      return {
        session: rows.some((row) => row.subject.startsWith('session:')),
        userBefore: user ? toMillis(user.revoked_at) : null,
      };
    },

    async deleteExpiredRevocations(before) {
      const result = await db
        .deleteFrom('session_revocations')
        .where('expires_at', '<=', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
