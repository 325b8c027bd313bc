// What the administrators' pages share: their paths, the administrator as the core's actor, and
// the reading of their filters and form fields, each failure an `input.invalid` naming the field.
import { MfaError } from '../core/errors.ts';
import type { AdminContext } from '../core/users/user-admin.ts';
import type { Session } from '../http/session-cookie.ts';
import { BASE, formField, type PortalRequest } from './context.ts';

export const ADMIN = `${BASE}/admin`;

/** The page of one user; the name is a path segment, so it is always percent-encoded. */
export const userPath = (username: string) => `${ADMIN}/users/${encodeURIComponent(username)}`;

/** Who acts, for the audit log the core writes: the signed-in administrator, from this address. */
export const adminContext = (pr: PortalRequest, session: Session): AdminContext => ({
  actor: session.username,
  channel: 'portal',
  clientAddress: pr.view.clientAddress,
});

/** A query-string parameter, trimmed: '' when absent; refused when repeated or too long. */
export function queryField(query: unknown, name: string, max = 256): string {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > max)
    throw new MfaError('input.invalid', { field: name, detail: 'repeated or too long' });
  return value.trim();
}

/** A form field that may be left out or empty, trimmed ('' when absent). */
export const optional = (body: unknown, name: string, max = 256) => formField(body, name, max, true).trim();

/** A whole number from `min` to `max`; `fallback` when the field was left empty. */
export function wholeNumber(
  value: string,
  field: string,
  range: { min: number; max: number; fallback: number },
) {
  const text = value.trim();
  if (text === '') return range.fallback;
  const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= range.min && n <= range.max))
    throw new MfaError('input.invalid', {
      field,
      detail: `a whole number from ${range.min} to ${range.max}`,
    });
  return n;
}

/** One of `choices`; '' (nothing chosen) is `undefined`. */
export function oneOf<T extends string>(value: string, field: string, choices: readonly T[]): T | undefined {
  if (value === '') return undefined;
  const found = choices.find((choice) => choice === value);
  if (found === undefined)
    throw new MfaError('input.invalid', { field, detail: `one of ${choices.join(', ')}` });
  return found;
}

/** A calendar day `YYYY-MM-DD` as the UTC instant it starts at (ms). */
export function utcDay(value: string, field: string): number | undefined {
  if (value === '') return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const at = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  // Date.UTC rolls 2024-02-31 over into March: only a day that reads back the same is a day.
  if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== value)
    throw new MfaError('input.invalid', { field, detail: 'a date as YYYY-MM-DD' });
  return at;
}

export const DAY_MS = 86_400_000;

export const isoTime = (ms: number) => new Date(ms).toISOString();
