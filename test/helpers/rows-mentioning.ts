// What a store file still says about someone: used by the deletion tests (the store's own and the
// SDK's) to prove that no table keeps a row about a deleted user.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/store/schema.ts';

/**
 * Per table, how many rows mention any of `needles` in any column (names, ids, JSON details).
 * Needles with a dot never occur by chance in base64 or hex.
 */
export async function rowsMentioning(
  db: Kysely<Database>,
  needles: string[],
): Promise<Record<string, number>> {
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db);
  const found: Record<string, number> = {};
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    const hits = rows.rows.filter((row) =>
      Object.values(row).some((v) => typeof v === 'string' && needles.some((n) => v.includes(n))),
    ).length;
    if (hits > 0) found[name] = hits;
  }
  return found;
}
