// The users-file directory, for small sites and the demo: a YAML list of users with scrypt password
// hashes. The file is re-read when it changes, so an administrator's edit needs no restart.
import { readFileSync, statSync } from 'node:fs';
import Type from 'typebox';
import Value from 'typebox/value';
import { parse } from 'yaml';
import { allErrors } from '../config/validate.ts';
import { MfaError } from '../core/errors.ts';
import type { Directory, DirectoryUser, DirectoryUserQuery } from '../core/ports.ts';
import { dummyPasswordHash, isPasswordHash, verifyPassword } from '../core/secrets/password-hash.ts';

const UserEntry = Type.Object(
  {
    username: Type.String({ minLength: 1, pattern: '^[^\\s]+$' }),
    /** `mfa-gateway users hash-password` prints one. */
    passwordHash: Type.String({ minLength: 1 }),
    id: Type.Optional(Type.String({ minLength: 1 })),
    displayName: Type.Optional(Type.String()),
    email: Type.Optional(Type.String()),
    phones: Type.Array(Type.String(), { default: [] }),
    groups: Type.Array(Type.String(), { default: [] }),
    disabled: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
const UsersFile = Type.Object({ users: Type.Array(UserEntry) }, { additionalProperties: false });
type Entry = Type.Static<typeof UserEntry>;

interface Loaded {
  mtimeMs: number;
  byName: Map<string, Entry>;
}

/** Parses and checks the file; every problem is listed with the user's position in it. */
export function parseUsersFile(text: string, file: string): Entry[] {
  const data = Value.Default(UsersFile, parse(text) ?? { users: [] });
  const problems = allErrors(UsersFile, data)
    .filter((e) => e.keyword !== 'boolean')
    .map((e) => `  - ${e.instancePath || '(root)'}: ${e.message}`);
  const entries = problems.length === 0 ? (data as { users: Entry[] }).users : [];
  entries.forEach((entry, index) => {
    if (!isPasswordHash(entry.passwordHash)) {
      problems.push(
        `  - /users/${index}/passwordHash: not an scrypt hash (run 'mfa-gateway users hash-password')`,
      );
    }
  });
  const names = new Set<string>();
  for (const entry of entries) {
    const name = entry.username.toLowerCase();
    if (names.has(name)) problems.push(`  - users: '${entry.username}' is listed twice`);
    names.add(name);
  }
  if (problems.length > 0)
    throw new Error(`${file}: the users file is not valid:\n${[...new Set(problems)].join('\n')}`);
  return entries;
}

function toDirectoryUser(entry: Entry): DirectoryUser {
  return {
    username: entry.username,
    uniqueId: entry.id ?? `file:${entry.username.toLowerCase()}`,
    displayName: entry.displayName,
    email: entry.email,
    phones: entry.phones,
    groups: entry.groups,
  };
}

export function createUsersFileDirectory(options: { path: string }): Directory {
  let loaded: Loaded | undefined;

  function current(): Map<string, Entry> {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(options.path).mtimeMs;
    } catch (error) {
      throw new MfaError('directory.unavailable', {
        detail: `${options.path}: ${(error as Error).message}`,
        cause: error,
      });
    }
    if (!loaded || loaded.mtimeMs !== mtimeMs) {
      // A broken edit keeps the last good file in service rather than locking everyone out.
      try {
        const entries = parseUsersFile(readFileSync(options.path, 'utf8'), options.path);
        loaded = { mtimeMs, byName: new Map(entries.map((e) => [e.username.toLowerCase(), e])) };
      } catch (error) {
        if (!loaded)
          throw new MfaError('directory.error', { detail: (error as Error).message, cause: error });
      }
    }
    return loaded?.byName ?? new Map();
  }

  return {
    async authenticate(username, password) {
      if (password.length === 0 || username.trim().length === 0) {
        throw new MfaError('auth.invalid_credentials', { detail: 'empty username or password' });
      }
      const entry = current().get(username.trim().toLowerCase());
      // Unknown users cost one hash like everyone else.
      const ok = await verifyPassword(password, entry?.passwordHash ?? (await dummyPasswordHash()));
      if (!entry) throw new MfaError('auth.invalid_credentials', { detail: 'unknown user' });
      if (!ok) throw new MfaError('auth.invalid_credentials', { detail: 'wrong password' });
      if (entry.disabled)
        throw new MfaError('auth.invalid_credentials', { detail: 'disabled in the users file' });
      return toDirectoryUser(entry);
    },
    async findUser(username) {
      const entry = current().get(username.trim().toLowerCase());
      return entry && !entry.disabled ? toDirectoryUser(entry) : undefined;
    },
    async listUsers(query?: DirectoryUserQuery) {
      const group = query?.group?.toLowerCase();
      return [...current().values()]
        .filter((e) => !e.disabled)
        .filter((e) => !group || e.groups.some((g) => g.toLowerCase() === group))
        .map(toDirectoryUser);
    },
    async ping() {
      current();
    },
    async close() {},
  };
}
