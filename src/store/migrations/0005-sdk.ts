// SDK service accounts: integrations and edge nodes that call /sdk/v1. Only a hash of each token
// is kept; a client certificate is matched by its fingerprint or subject.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

type AnyDb = Kysely<unknown>;

export const sdk: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('service_accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('networks', 'text', (c) => c.notNull())
      .addColumn('cert_fingerprint', 'text')
      .addColumn('cert_subject', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('service_accounts').execute();
  },
};
