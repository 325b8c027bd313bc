// Import from the directory into the store, idempotent by the directory's unique id: new users are
// added, changed ones updated (a rename included), and imported users no longer in the directory
// scope are disabled, never deleted, so their factors survive a mistaken filter.
import { MfaError } from '../errors.ts';
import type {
  AuditSink,
  Clock,
  Directory,
  DirectoryUser,
  DirectoryUserQuery,
  UserRecord,
  UserStore,
} from '../ports.ts';
import type { AdminContext } from './user-admin.ts';

export interface ImportResult {
  added: number;
  updated: number;
  unchanged: number;
  disabled: number;
  /** Directory entries skipped, with why (a clash with another user's name, say). */
  skipped: Array<{ username: string; reason: string }>;
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

function changes(existing: UserRecord, entry: DirectoryUser): Partial<UserRecord> {
  const wanted: Partial<UserRecord> = {
    username: entry.username.trim().toLowerCase(),
    uniqueId: entry.uniqueId,
    displayName: entry.displayName ?? null,
    email: entry.email ?? null,
    fromDirectory: true,
  };
  const patch: Partial<UserRecord> = {};
  for (const [key, value] of Object.entries(wanted) as Array<[keyof UserRecord, never]>) {
    if (existing[key] !== value) patch[key] = value;
  }
  // Phones typed in the portal are kept when the directory has none.
  if (entry.phones.length > 0 && !sameList(existing.phones, entry.phones)) patch.phones = entry.phones;
  return patch;
}

export function createDirectoryImport(deps: {
  directory: Directory;
  users: UserStore;
  audit: AuditSink;
  clock: Clock;
}) {
  const { directory, users, audit, clock } = deps;

  async function upsert(entry: DirectoryUser, result: ImportResult): Promise<string | undefined> {
    const username = entry.username.trim().toLowerCase();
    const existing =
      (await users.findUserByUniqueId(entry.uniqueId)) ?? (await users.findUserByName(username));
    if (!existing) {
      const created = await users.createUser(
        {
          username,
          uniqueId: entry.uniqueId,
          displayName: entry.displayName ?? null,
          email: entry.email ?? null,
          phones: entry.phones,
          defaultMethod: null,
          language: null,
          status: 'enabled',
          pinHash: null,
          fromDirectory: true,
        },
        clock.now(),
      );
      result.added++;
      return created.id;
    }
    if (existing.uniqueId && existing.uniqueId !== entry.uniqueId) {
      // Same name, another directory object: a deleted and re-created account must not inherit factors.
      result.skipped.push({ username, reason: 'username belongs to another directory object' });
      return existing.id;
    }
    const patch = changes(existing, entry);
    if (Object.keys(patch).length === 0) result.unchanged++;
    else {
      await users.updateUser(existing.id, patch, clock.now());
      result.updated++;
    }
    return existing.id;
  }

  return async function importUsers(
    query: DirectoryUserQuery,
    ctx: AdminContext,
    options: { allowEmpty?: boolean } = {},
  ): Promise<ImportResult> {
    const entries = await directory.listUsers(query);
    const imported = (await users.listUsers({})).filter((u) => u.fromDirectory);
    if (entries.length === 0 && imported.length > 0 && !options.allowEmpty) {
      throw new MfaError('input.invalid', {
        field: 'filter',
        detail: `the directory returned no users; refusing to disable ${imported.length} imported users (use --allow-empty)`,
      });
    }
    const result: ImportResult = { added: 0, updated: 0, unchanged: 0, disabled: 0, skipped: [] };
    const seen = new Set<string>();
    for (const entry of entries) {
      const id = await upsert(entry, result);
      if (id) seen.add(id);
    }
    for (const user of imported) {
      if (seen.has(user.id) || user.status !== 'enabled') continue;
      await users.updateUser(user.id, { status: 'disabled' }, clock.now());
      result.disabled++;
    }
    await audit.record({
      at: clock.now(),
      type: 'directory.import',
      outcome: 'success',
      channel: ctx.channel,
      username: null,
      clientAddress: ctx.clientAddress,
      reason: null,
      actor: ctx.actor,
      application: null,
      details: { query, ...result, skipped: result.skipped.length },
    });
    return result;
  };
}
