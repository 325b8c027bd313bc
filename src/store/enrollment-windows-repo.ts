// Enrollment windows: an administrator lets one user enrol or replace a factor with the password
// alone until the window ends. Found by user and time, swept once expired.
import type { Kysely, Selectable } from 'kysely';
import type { EnrollmentWindow, EnrollmentWindowStore } from '../core/ports.ts';
import { toMillis } from './rows.ts';
import type { Database, EnrollmentWindowsTable } from './schema.ts';

function toWindow(row: Selectable<EnrollmentWindowsTable>): EnrollmentWindow {
  return {
    id: row.id,
    userId: row.user_id,
    createdBy: row.created_by,
    createdAt: toMillis(row.created_at),
    expiresAt: toMillis(row.expires_at),
  };
}

export function createEnrollmentWindowsRepo(db: Kysely<Database>): EnrollmentWindowStore {
  return {
    async createEnrollmentWindow(window) {
      await db
        .insertInto('enrollment_windows')
        .values({
          id: window.id,
          user_id: window.userId,
          created_by: window.createdBy,
          created_at: window.createdAt,
          expires_at: window.expiresAt,
        })
        .execute();
    },

    async findEnrollmentWindow(userId, at) {
      // Open at `at`: already issued and not yet ended; the one that lasts longest is reported.
      const row = await db
        .selectFrom('enrollment_windows')
        .selectAll()
        .where('user_id', '=', userId)
        .where('expires_at', '>', at)
        .where('created_at', '<=', at)
        .orderBy('expires_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && toWindow(row);
    },

    async deleteExpiredEnrollmentWindows(before) {
      const result = await db
        .deleteFrom('enrollment_windows')
        .where('expires_at', '<=', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
