// Deleting a user and everything about them in one transaction, table by table rather than by
// trusting the foreign keys' cascades: SQLite enforces them only with a pragma, challenges, push
// requests and SDK authentications also carry the name, regulation counters are keyed by name,
// and the audit rewrite of an erasure must commit or roll back with the rest.
import type { DeleteResult, Kysely } from 'kysely';
import type { UserDeletionCounts, UserDeletionStore } from '../core/ports.ts';
import { eventColumns, toEvent } from './audit-repo.ts';
import { canonicalUsername } from './rows.ts';
import type { Database } from './schema.ts';

/** Thrown inside the transaction to roll it back when the user is gone; never leaves this file. */
class UserGone extends Error {}

/** The tables whose rows belong to one user by `user_id` alone. */
type UserTable =
  | 'mobile_devices'
  | 'factors'
  | 'security_answers'
  | 'bypasses'
  | 'enrollment_windows'
  | 'activation_codes';

const deleted = (result: DeleteResult) => Number(result.numDeletedRows);

export function createUserDeletionRepo(db: Kysely<Database>): UserDeletionStore {
  return {
    async deleteUser(user, options) {
      const name = canonicalUsername(user.username);
      try {
        return await db.transaction().execute(async (trx): Promise<UserDeletionCounts> => {
          // Writes first: a deferred SQLite transaction that read first could not take the write
          // lock once another process had written (SQLITE_BUSY_SNAPSHOT); this one waits for it.
          const byUser = async (table: UserTable) =>
            deleted(await trx.deleteFrom(table).where('user_id', '=', user.id).executeTakeFirst());
          const mobileDevices = await byUser('mobile_devices');
          const factors = await byUser('factors');
          const securityAnswers = await byUser('security_answers');
          const bypasses = await byUser('bypasses');
          const enrollmentWindows = await byUser('enrollment_windows');
          const activationCodes = await byUser('activation_codes');
          const pushRequests = deleted(
            await trx
              .deleteFrom('push_requests')
              .where((eb) => eb.or([eb('user_id', '=', user.id), eb('username', '=', name)]))
              .executeTakeFirst(),
          );
          const challenges = deleted(
            await trx
              .deleteFrom('challenges')
              .where((eb) => eb.or([eb('user_id', '=', user.id), eb('username', '=', name)]))
              .executeTakeFirst(),
          );
          const sdkAuthentications = deleted(
            await trx
              .deleteFrom('sdk_authentications')
              .where((eb) => eb.or([eb('user_id', '=', user.id), eb('username', '=', name)]))
              .executeTakeFirst(),
          );
          const regulationCounters =
            options.regulationSubjects.length === 0
              ? 0
              : deleted(
                  await trx
                    .deleteFrom('regulation_counters')
                    .where('subject', 'in', options.regulationSubjects)
                    .executeTakeFirst(),
                );
          const gone = await trx
            .deleteFrom('users')
            .where('id', '=', user.id)
            .where('username', '=', name)
            .executeTakeFirst();
          if (deleted(gone) === 0) throw new UserGone();
          let auditEventsErased = 0;
          const { erase } = options;
          if (erase) {
            const who = canonicalUsername(erase.username);
            const rows = await trx
              .selectFrom('audit_events')
              .selectAll()
              .where((eb) => eb.or([eb('username', '=', who), eb('actor', '=', who)]))
              .execute();
            for (const row of rows) {
              await trx
                .updateTable('audit_events')
                .set(eventColumns(erase.rewrite(toEvent(row))))
                .where('id', '=', row.id)
                .execute();
              auditEventsErased++;
            }
          }
          return {
            factors,
            mobileDevices,
            securityAnswers,
            bypasses,
            enrollmentWindows,
            activationCodes,
            pushRequests,
            challenges,
            regulationCounters,
            sdkAuthentications,
            auditEventsErased,
          };
        });
      } catch (error) {
        if (error instanceof UserGone) return undefined;
        throw error;
      }
    },
  };
}
