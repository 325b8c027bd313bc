// The self-service portal: administrators' enrollment windows, looked up by user and swept by expiry.
// Security answers need no change: 0001 already made (user_id, question_id) unique, and that index
// also serves lookups by user.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// Untyped, like 0001: a migration describes the schema as it was, not as today's types say.
type AnyDb = Kysely<unknown>;

export const portal: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('enrollment_windows')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('enrollment_windows_user_id_idx')
      .on('enrollment_windows')
      .columns(['user_id', 'expires_at'])
      .execute();
    await db.schema
      .createIndex('enrollment_windows_expires_at_idx')
      .on('enrollment_windows')
      .column('expires_at')
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('enrollment_windows').execute();
  },
};
