// Challenges: short-lived second-factor steps with an attempt cap and single-use consumption,
// both enforced by conditional statements rather than read-then-write.
import type { Kysely, Selectable } from 'kysely';
import { CHANNELS, type Challenge, type ChallengeStore, METHODS } from '../core/ports.ts';
import { oneOf, toMillis } from './rows.ts';
import type { ChallengesTable, Database } from './schema.ts';

function toChallenge(row: Selectable<ChallengesTable>): Challenge {
  return {
    id: row.id,
    userId: row.user_id,
    username: row.username,
    channel: oneOf(CHANNELS, row.channel, 'challenges.channel'),
    clientAddress: row.client_address,
    method: oneOf(METHODS, row.method, 'challenges.method'),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    createdAt: toMillis(row.created_at),
    expiresAt: toMillis(row.expires_at),
  };
}

export function createChallengesRepo(db: Kysely<Database>): ChallengeStore {
  return {
    async createChallenge(challenge) {
      await db
        .insertInto('challenges')
        .values({
          id: challenge.id,
          user_id: challenge.userId,
          username: challenge.username,
          channel: challenge.channel,
          client_address: challenge.clientAddress,
          method: challenge.method,
          attempts: 0,
          max_attempts: challenge.maxAttempts,
          created_at: challenge.createdAt,
          expires_at: challenge.expiresAt,
        })
        .execute();
    },

    async getChallenge(id) {
      const row = await db.selectFrom('challenges').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toChallenge(row);
    },

    async countChallengeAttempt(id) {
      // The cap is in the WHERE clause, and RETURNING reads the count the same statement wrote,
      // so concurrent attempts can never exceed it nor see each other's count.
      const row = await db
        .updateTable('challenges')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('id', '=', id)
        .whereRef('attempts', '<', 'max_attempts')
        .returning('attempts')
        .executeTakeFirst();
      return row && Number(row.attempts);
    },

    async consumeChallenge(id) {
      const result = await db.deleteFrom('challenges').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async deleteExpiredChallenges(before) {
      const result = await db.deleteFrom('challenges').where('expires_at', '<=', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
