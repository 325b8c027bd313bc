// SDK authentications: created open, finished exactly once by a conditional update (the first
// recorded result stands), and swept once their result need not be kept.
import type { Kysely, Selectable } from 'kysely';
import {
  SDK_AUTH_METHODS,
  SDK_AUTH_STATUSES,
  type SdkAuthentication,
  type SdkAuthenticationStore,
} from '../core/ports.ts';
import { oneOf, toMillis, toNullableMillis } from './rows.ts';
import type { Database, SdkAuthenticationsTable } from './schema.ts';

function toSdkAuthentication(row: Selectable<SdkAuthenticationsTable>): SdkAuthentication {
  return {
    id: row.id,
    accountId: row.account_id,
    userId: row.user_id,
    username: row.username,
    method: row.method === null ? null : oneOf(SDK_AUTH_METHODS, row.method, 'sdk_authentications.method'),
    challengeId: row.challenge_id,
    pushRequestId: row.push_request_id,
    status: oneOf(SDK_AUTH_STATUSES, row.status, 'sdk_authentications.status'),
    reason: row.reason,
    createdAt: toMillis(row.created_at),
    expiresAt: toMillis(row.expires_at),
    keepUntil: toMillis(row.keep_until),
    finishedAt: toNullableMillis(row.finished_at),
  };
}

export function createSdkAuthenticationsRepo(db: Kysely<Database>): SdkAuthenticationStore {
  return {
    async createSdkAuthentication(a) {
      await db
        .insertInto('sdk_authentications')
        .values({
          id: a.id,
          account_id: a.accountId,
          user_id: a.userId,
          username: a.username,
          method: a.method,
          challenge_id: a.challengeId,
          push_request_id: a.pushRequestId,
          status: a.status,
          reason: a.reason,
          created_at: a.createdAt,
          expires_at: a.expiresAt,
          keep_until: a.keepUntil,
          finished_at: a.finishedAt,
        })
        .execute();
    },

    async getSdkAuthentication(id) {
      const row = await db
        .selectFrom('sdk_authentications')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toSdkAuthentication(row);
    },

    async finishSdkAuthentication(id, result) {
      const done = await db
        .updateTable('sdk_authentications')
        .set({ status: result.status, reason: result.reason, finished_at: result.at })
        .where('id', '=', id)
        .where('status', 'in', ['pending', 'code_required'])
        .executeTakeFirst();
      return done.numUpdatedRows > 0n;
    },

    async deleteExpiredSdkAuthentications(before) {
      const result = await db
        .deleteFrom('sdk_authentications')
        .where('keep_until', '<=', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
