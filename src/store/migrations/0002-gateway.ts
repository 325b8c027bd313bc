// The gateway's denylist of revoked sessions: one row per revoked session id (`session:<id>`) or per
// user whose older sessions are all revoked (`user:<name>`), kept until the longest session would end.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// Untyped, like 0001: a migration describes the schema as it was, not as today's types say.
type AnyDb = Kysely<unknown>;

export const gateway: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('session_revocations')
      .addColumn('subject', 'text', (c) => c.primaryKey())
      .addColumn('revoked_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('session_revocations_expires_at_idx')
      .on('session_revocations')
      .column('expires_at')
      .execute();
    await db.schema.createIndex('bypasses_expires_at_idx').on('bypasses').column('expires_at').execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('bypasses_expires_at_idx').execute();
    await db.schema.dropTable('session_revocations').execute();
  },
};
