// Helpers shared by the repositories: value coercion that works for SQLite and PostgreSQL rows,
// username canonicalisation, and recognising a unique-constraint violation from either driver.

/** Usernames are compared and stored in one form: trimmed and lower case. */
export function canonicalUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** bigint columns come back as numbers from SQLite and as strings from PostgreSQL. */
export function toMillis(value: number | string | bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`store: not an integer time value: ${String(value)}`);
  return n;
}

export function toNullableMillis(value: number | string | bigint | null): number | null {
  return value === null ? null : toMillis(value);
}

/** Narrows a stored text to one of the allowed values; a corrupt row fails loudly rather than passing through. */
export function oneOf<T extends string>(allowed: readonly T[], value: string, column: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`store: unexpected value in ${column}: ${JSON.stringify(value)}`);
}

export function parseStringList(text: string, column: string): string[] {
  const value: unknown = JSON.parse(text);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  throw new Error(`store: ${column} is not a JSON list of strings`);
}

export function parseJsonObject(text: string | null, column: string): Record<string, unknown> | null {
  if (text === null) return null;
  const value: unknown = JSON.parse(text);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  throw new Error(`store: ${column} is not a JSON object`);
}

/** SQLite (better-sqlite3) and PostgreSQL (pg, SQLSTATE 23505) report a duplicate key differently. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** Escapes LIKE wildcards so that a search text matches literally (used with `escape '\'`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
