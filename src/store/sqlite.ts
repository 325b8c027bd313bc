// Opens the SQLite database file behind Kysely with the pragmas the store relies on: WAL (readers do
// not block the writer), FULL sync (a commit survives power loss), busy timeout, foreign keys.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.ts';

export interface SqliteOptions {
  path: string;
  /** How long a writer waits for another process's lock before failing with SQLITE_BUSY. */
  busyTimeoutMs: number;
}

export function openSqliteDatabase(options: SqliteOptions): Kysely<Database> {
  const inMemory = options.path === ':memory:';
  if (!inMemory) mkdirSync(dirname(options.path), { recursive: true });
  const sqlite = new SqliteDatabase(options.path, { timeout: options.busyTimeoutMs });
  try {
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`);
    if (!inMemory) {
      const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') {
        throw new Error(`could not switch ${options.path} to WAL (got ${String(mode)})`);
      }
    }
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}
