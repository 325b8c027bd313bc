// Migration 0001: the initial schema. Portable to PostgreSQL: TEXT ids made in code, bigint
// milliseconds, integer 0/1 booleans, JSON as TEXT, no dialect-specific column features.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// A migration must not depend on today's Database type (it describes the schema as it was), so
// it takes an untyped instance; the schema builder needs no table types.
type AnyDb = Kysely<unknown>;

async function createUsers(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('unique_id', 'text', (c) => c.unique())
    .addColumn('display_name', 'text')
    .addColumn('email', 'text')
    .addColumn('phones', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('default_method', 'text')
    .addColumn('language', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('enabled'))
    .addColumn('pin_hash', 'text')
    .addColumn('from_directory', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

async function createFactors(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('factors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('last_time_step', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('factors_user_id_idx').on('factors').columns(['user_id', 'kind']).execute();
}

async function createBypassesAndAnswers(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('bypasses')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('bypasses_user_id_idx')
    .on('bypasses')
    .columns(['user_id', 'expires_at'])
    .execute();
  await db.schema
    .createTable('security_answers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('question_id', 'text', (c) => c.notNull())
    .addColumn('answer_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('security_answers_user_question_key', ['user_id', 'question_id'])
    .execute();
}

async function createRegulationAndChallenges(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('regulation_counters')
    .addColumn('subject', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('regulation_counters_locked_until_idx')
    .on('regulation_counters')
    .column('locked_until')
    .execute();
  await db.schema
    .createTable('challenges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('client_address', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('challenges_expires_at_idx').on('challenges').column('expires_at').execute();
  await db.schema.createIndex('challenges_user_id_idx').on('challenges').column('user_id').execute();
}

async function createAuditEvents(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('username', 'text')
    .addColumn('client_address', 'text')
    .addColumn('reason', 'text')
    .addColumn('actor', 'text')
    .addColumn('application', 'text')
    .addColumn('details', 'text')
    .execute();
  await db.schema
    .createIndex('audit_events_username_at_idx')
    .on('audit_events')
    .columns(['username', 'at'])
    .execute();
  await db.schema.createIndex('audit_events_at_idx').on('audit_events').column('at').execute();
  await db.schema
    .createIndex('audit_events_type_at_idx')
    .on('audit_events')
    .columns(['type', 'at'])
    .execute();
}

const TABLES = [
  'audit_events',
  'challenges',
  'regulation_counters',
  'security_answers',
  'bypasses',
  'factors',
  'users',
] as const;

export const initial: Migration = {
  async up(db: AnyDb) {
    await createUsers(db);
    await createFactors(db);
    await createBypassesAndAnswers(db);
    await createRegulationAndChallenges(db);
    await createAuditEvents(db);
  },
  async down(db: AnyDb) {
    // Children first, so foreign keys never point at a dropped table.
    for (const table of TABLES) await db.schema.dropTable(table).execute();
  },
};
