// Failure counters for lockout. addFailure is a single upsert whose CASE expressions restart an
// expired window and set the lock, so concurrent failures from several processes are all counted.
import { type Kysely, type Selectable, sql } from 'kysely';
import type { FailureCounter, RegulationStore } from '../core/ports.ts';
import { toMillis, toNullableMillis } from './rows.ts';
import type { Database, RegulationCountersTable } from './schema.ts';

type CounterRow = Pick<Selectable<RegulationCountersTable>, 'failures' | 'window_start' | 'locked_until'>;

function toCounter(row: CounterRow): FailureCounter {
  return {
    failures: Number(row.failures),
    windowStart: toMillis(row.window_start),
    lockedUntil: toNullableMillis(row.locked_until),
  };
}

export function createRegulationRepo(db: Kysely<Database>): RegulationStore {
  return {
    async getCounter(subject) {
      const row = await db
        .selectFrom('regulation_counters')
        .select(['failures', 'window_start', 'locked_until'])
        .where('subject', '=', subject)
        .executeTakeFirst();
      return row && toCounter(row);
    },

    async addFailure(subject, at, windowMs, maxFailures, banMs) {
      // A read-then-write transaction would need BEGIN IMMEDIATE on SQLite (a deferred one fails
      // with SQLITE_BUSY when another process writes in between); one statement is atomic on both.
      const expired = sql<boolean>`regulation_counters.window_start <= ${at - windowMs}`;
      const failures = sql<number>`case when ${expired} then 1 else regulation_counters.failures + 1 end`;
      const row = await db
        .insertInto('regulation_counters')
        .values({
          subject,
          failures: 1,
          window_start: at,
          locked_until: 1 >= maxFailures ? at + banMs : null,
          updated_at: at,
        })
        .onConflict((oc) =>
          oc.column('subject').doUpdateSet({
            failures,
            window_start: sql<number>`case when ${expired} then ${at} else regulation_counters.window_start end`,
            // Reaching the limit (re)starts the ban; otherwise a running ban is kept and a past one dropped.
            locked_until: sql<number | null>`case
              when ${failures} >= ${maxFailures} then ${at + banMs}
              when regulation_counters.locked_until > ${at} then regulation_counters.locked_until
              else null end`,
            updated_at: at,
          }),
        )
        .returning(['failures', 'window_start', 'locked_until'])
        .executeTakeFirstOrThrow();
      return toCounter(row);
    },

    async clearCounter(subject) {
      const result = await db
        .deleteFrom('regulation_counters')
        .where('subject', '=', subject)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async listLocked(at) {
      const rows = await db
        .selectFrom('regulation_counters')
        .select(['subject', 'failures', 'window_start', 'locked_until'])
        .where('locked_until', '>', at)
        .orderBy('subject')
        .execute();
      return rows.map((row) => ({ subject: row.subject, ...toCounter(row) }));
    },
  };
}
