// Users: canonical usernames on every write and lookup, `user.exists` on a duplicate, phones as JSON.
import { type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import { MfaError } from '../core/errors.ts';
import {
  METHODS,
  type NewUser,
  type Random,
  USER_STATUSES,
  type UserFilter,
  type UserPatch,
  type UserRecord,
  type UserStore,
} from '../core/ports.ts';
import { timeOrderedId } from '../core/random.ts';
import {
  canonicalUsername,
  escapeLike,
  isUniqueViolation,
  oneOf,
  parseStringList,
  toMillis,
} from './rows.ts';
import type { Database, UsersTable } from './schema.ts';

function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    uniqueId: row.unique_id,
    displayName: row.display_name,
    email: row.email,
    phones: parseStringList(row.phones, 'users.phones'),
    defaultMethod:
      row.default_method === null ? null : oneOf(METHODS, row.default_method, 'users.default_method'),
    language: row.language,
    status: oneOf(USER_STATUSES, row.status, 'users.status'),
    pinHash: row.pin_hash,
    fromDirectory: Number(row.from_directory) === 1,
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
  };
}

/** Only the fields present in the patch are written. */
function toUpdate(patch: UserPatch, at: number): Updateable<UsersTable> {
  const values: Updateable<UsersTable> = { updated_at: at };
  if (patch.username !== undefined) values.username = canonicalUsername(patch.username);
  if (patch.uniqueId !== undefined) values.unique_id = patch.uniqueId;
  if (patch.displayName !== undefined) values.display_name = patch.displayName;
  if (patch.email !== undefined) values.email = patch.email;
  if (patch.phones !== undefined) values.phones = JSON.stringify(patch.phones);
  if (patch.defaultMethod !== undefined) values.default_method = patch.defaultMethod;
  if (patch.language !== undefined) values.language = patch.language;
  if (patch.status !== undefined) values.status = patch.status;
  if (patch.pinHash !== undefined) values.pin_hash = patch.pinHash;
  if (patch.fromDirectory !== undefined) values.from_directory = patch.fromDirectory ? 1 : 0;
  return values;
}

export function createUsersRepo(db: Kysely<Database>, random: Random): UserStore {
  const selectUsers = () => db.selectFrom('users').selectAll();

  return {
    async findUserByName(username) {
      const row = await selectUsers().where('username', '=', canonicalUsername(username)).executeTakeFirst();
      return row && toUser(row);
    },

    async findUserByUniqueId(uniqueId) {
      const row = await selectUsers().where('unique_id', '=', uniqueId).executeTakeFirst();
      return row && toUser(row);
    },

    async getUser(id) {
      const row = await selectUsers().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },

    async createUser(user: NewUser, at) {
      const record: UserRecord = {
        ...user,
        id: timeOrderedId(at, random),
        username: canonicalUsername(user.username),
        phones: [...user.phones],
        createdAt: at,
        updatedAt: at,
      };
      // ON CONFLICT DO NOTHING (any unique key: username or unique id) works in SQLite and PostgreSQL
      // alike and needs no driver-specific error code.
      const result = await db
        .insertInto('users')
        .values({
          id: record.id,
          username: record.username,
          unique_id: record.uniqueId,
          display_name: record.displayName,
          email: record.email,
          phones: JSON.stringify(record.phones),
          default_method: record.defaultMethod,
          language: record.language,
          status: record.status,
          pin_hash: record.pinHash,
          from_directory: record.fromDirectory ? 1 : 0,
          created_at: at,
          updated_at: at,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (result.numInsertedOrUpdatedRows === 0n) {
        throw new MfaError('user.exists', {
          detail: `username '${record.username}' or its unique id is taken`,
        });
      }
      return record;
    },

    async updateUser(id, patch, at) {
      let row: Selectable<UsersTable> | undefined;
      try {
        row = await db
          .updateTable('users')
          .set(toUpdate(patch, at))
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst();
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new MfaError('user.exists', { detail: 'username or unique id is taken', cause: error });
        }
        throw error;
      }
      if (!row) throw new MfaError('user.not_found', { detail: `user id ${id}` });
      return toUser(row);
    },

    async listUsers(filter: UserFilter = {}) {
      let query = selectUsers().orderBy('username');
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.search) {
        const pattern = `%${escapeLike(filter.search.trim().toLowerCase())}%`;
        // lower() on both sides: LIKE is case-insensitive in SQLite but not in PostgreSQL.
        const matches = (column: 'username' | 'display_name' | 'email') =>
          sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
        query = query.where((eb) => eb.or([matches('username'), matches('display_name'), matches('email')]));
      }
      if (filter.limit !== undefined) query = query.limit(filter.limit);
      return (await query.execute()).map(toUser);
    },
  };
}
