// Authentications started through the SDK: the result of each, bound to the service account that
// started it, kept beyond the single-use challenge behind it so that a poll on any node reads it.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

type AnyDb = Kysely<unknown>;

export const sdkAuthentications: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('sdk_authentications')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      // The rows say who signed in: they go with the user.
      .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('method', 'text')
      .addColumn('challenge_id', 'text')
      .addColumn('push_request_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('keep_until', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('sdk_authentications_keep_until_idx')
      .on('sdk_authentications')
      .column('keep_until')
      .execute();
    await db.schema
      .createIndex('sdk_authentications_user_id_idx')
      .on('sdk_authentications')
      .column('user_id')
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('sdk_authentications').execute();
  },
};
