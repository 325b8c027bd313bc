// How a user can be reached and addressed: phone numbers (E.164) and the language of their pages.
// Shared by the self-service portal and the administrators' tools so both accept the same input.
import { MfaError } from '../errors.ts';

export const E164 = /^\+[1-9]\d{6,14}$/;
export const LANGUAGE = /^[a-z]{2}$/;

/**
 * A phone number as typed (`+1 (415) 555-0100`) in E.164 form (`+14155550100`); throws `input.invalid`
 * naming `field` when it is not one.
 */
export function checkPhone(typed: string, field: string): string {
  const phone = typeof typed === 'string' ? typed.replace(/[\s\-()]/g, '') : '';
  if (!E164.test(phone)) throw new MfaError('input.invalid', { field, detail: 'E.164, e.g. +14155550100' });
  return phone;
}

/** A two-letter language code, or null for "the default"; throws `input.invalid` otherwise. */
export function checkLanguage(language: string | null, field = 'language'): string | null {
  if (language === null) return null;
  if (typeof language !== 'string' || !LANGUAGE.test(language))
    throw new MfaError('input.invalid', { field, detail: 'two lower-case letters, e.g. en' });
  return language;
}
