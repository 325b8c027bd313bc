// The mobile service: phones running the web authenticator, their single-use activation codes, and
// the push requests they answer. A device's offline seed is a row of `factors` (cascade: removing
// the factor removes the device).
import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

type AnyDb = Kysely<unknown>;

export const mobile: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('activation_codes')
      .addColumn('code_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('activation_codes_expires_at_idx')
      .on('activation_codes')
      .column('expires_at')
      .execute();

    await db.schema
      .createTable('mobile_devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('factor_id', 'text', (c) =>
        c.notNull().unique().references('factors.id').onDelete('cascade'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      // Sealed by the secret box and bound to the row, like TOTP seeds (DESIGN §6 rule 9).
      .addColumn('public_key_enc', 'text', (c) => c.notNull())
      .addColumn('push_subscription_enc', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('mobile_devices_user_id_idx')
      .on('mobile_devices')
      .column('user_id')
      .execute();

    await db.schema
      .createTable('push_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('challenge_id', 'text')
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('application', 'text')
      .addColumn('client_address', 'text', (c) => c.notNull())
      .addColumn('number_matching', 'integer', (c) => c.notNull())
      .addColumn('number', 'integer', (c) => c.notNull())
      .addColumn('decoys', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('pin_required', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('device_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('answered_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('push_requests_user_state_idx')
      .on('push_requests')
      .columns(['user_id', 'state', 'expires_at'])
      .execute();
    // One pending push per user (DESIGN §6 rule 12), enforced where every node sees it.
    await db.schema
      .createIndex('push_requests_one_pending_idx')
      .on('push_requests')
      .column('user_id')
      .unique()
      .where(sql.ref('state'), '=', 'pending')
      .execute();
    await db.schema
      .createIndex('push_requests_expires_at_idx')
      .on('push_requests')
      .column('expires_at')
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('push_requests').execute();
    await db.schema.dropTable('mobile_devices').execute();
    await db.schema.dropTable('activation_codes').execute();
  },
};
