// The user settings an administrator may change, checked field by field with the field path in the
// error (`phones[1]`), so the admin pages and the CLI refuse the same input the same way.
import { MfaError } from '../errors.ts';
import { METHODS, type Method, type UserPatch } from '../ports.ts';
import { checkLanguage, checkPhone } from './contact.ts';

/** What an administrator may change about a user; an absent key is left as it is. */
export interface UserSettingsInput {
  displayName?: string | null;
  email?: string | null;
  phones?: string[];
  defaultMethod?: Method | null;
  language?: string | null;
  /** A PIN to set (checked against the PIN rules, then hashed), or null to clear it. */
  pin?: string | null;
}

const MAX_PHONES = 5;

const hasControl = (text: string) => [...text].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f');

export function checkPhones(phones: unknown): string[] {
  if (!Array.isArray(phones) || phones.length > MAX_PHONES)
    throw new MfaError('input.invalid', { field: 'phones', detail: `a list of at most ${MAX_PHONES}` });
  const checked = phones.map((p: string, i) => checkPhone(p, `phones[${i}]`));
  const duplicate = checked.findIndex((p, i) => checked.indexOf(p) !== i);
  if (duplicate >= 0)
    throw new MfaError('input.invalid', { field: `phones[${duplicate}]`, detail: 'listed twice' });
  return checked;
}

/** Text that may be cleared: empty or null becomes null; otherwise trimmed, bounded, no control characters. */
function optionalText(value: string | null, field: string, max: number, pattern?: RegExp): string | null {
  if (value === null) return null;
  const text = typeof value === 'string' ? value.trim() : undefined;
  if (text === '') return null;
  if (text === undefined || text.length > max || hasControl(text) || (pattern && !pattern.test(text)))
    throw new MfaError('input.invalid', {
      field,
      detail: pattern ? 'not valid' : `at most ${max} characters`,
    });
  return text;
}

/** Checks every present key; returns the patch to write. */
export function settingsPatch(input: UserSettingsInput): UserPatch {
  const patch: UserPatch = {};
  if (input.displayName !== undefined)
    patch.displayName = optionalText(input.displayName, 'displayName', 256);
  if (input.email !== undefined) patch.email = optionalText(input.email, 'email', 254, /^[^\s@]+@[^\s@]+$/);
  if (input.phones !== undefined) patch.phones = checkPhones(input.phones);
  if (input.defaultMethod !== undefined) {
    if (input.defaultMethod !== null && !METHODS.includes(input.defaultMethod))
      throw new MfaError('input.invalid', { field: 'defaultMethod', detail: METHODS.join(', ') });
    patch.defaultMethod = input.defaultMethod;
  }
  if (input.language !== undefined) patch.language = checkLanguage(input.language);
  return patch;
}
