// One-time bypasses: issued with an expiry, spent at most once by a single conditional update.
import type { Kysely, Selectable } from 'kysely';
import type { Bypass, BypassStore } from '../core/ports.ts';
import { toMillis } from './rows.ts';
import type { BypassesTable, Database } from './schema.ts';

function toBypass(row: Selectable<BypassesTable>): Bypass {
  return {
    id: row.id,
    userId: row.user_id,
    createdBy: row.created_by,
    reason: row.reason,
    createdAt: toMillis(row.created_at),
    expiresAt: toMillis(row.expires_at),
    usedAt: row.used_at === null ? null : toMillis(row.used_at),
  };
}

export function createBypassesRepo(db: Kysely<Database>): BypassStore {
  return {
    async createBypass(bypass) {
      await db
        .insertInto('bypasses')
        .values({
          id: bypass.id,
          user_id: bypass.userId,
          created_by: bypass.createdBy,
          reason: bypass.reason,
          created_at: bypass.createdAt,
          expires_at: bypass.expiresAt,
          used_at: null,
        })
        .execute();
    },

    async consumeBypass(userId, at) {
      // The live-and-unused test sits in the UPDATE itself: two sign-ins racing for one bypass
      // cannot both spend it.
      const row = await db
        .updateTable('bypasses')
        .set({ used_at: at })
        .where('id', '=', (eb) =>
          eb
            .selectFrom('bypasses')
            .select('id')
            .where('user_id', '=', userId)
            .where('used_at', 'is', null)
            .where('expires_at', '>', at)
            .orderBy('created_at')
            .limit(1),
        )
        .where('used_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      return row && toBypass(row);
    },

    async deleteExpiredBypasses(before) {
      const result = await db.deleteFrom('bypasses').where('expires_at', '<=', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
