// PINs (Azure's PIN mode, asked by the mobile app before an approval): digits only, within the
// configured length, and none of the PINs an attacker tries first. Stored only as a peppered hash.
import { MfaError } from '../errors.ts';

export interface PinRules {
  minLength: number;
  maxLength: number;
}

/** Dates, words on the keypad and habits that lead every published list of PINs, beyond the patterns below. */
const NOTORIOUS = new Set([
  '1004', // "cheon-sa" (angel) in Korean
  '2000',
  '2001',
  '1122',
  '1998',
  '1999',
  '2580', // the middle column of the keypad, top to bottom
  '0852', // the same, bottom to top
  '5683', // L-O-V-E
  '1357',
  '2468',
  '0007',
]);

/** One run up or down the digits, wrapping after 9 (1234, 4321, 0123, 9876, 7890). */
function isRun(pin: string): boolean {
  const digits = [...pin].map(Number);
  const step = ((digits[1] ?? 0) - (digits[0] ?? 0) + 10) % 10;
  if (step !== 1 && step !== 9) return false;
  return digits.every((d, i) => i === 0 || (d - (digits[i - 1] ?? 0) + 10) % 10 === step);
}

/** The PIN is a shorter block said again: 1111, 1212, 121212, 123123. */
function isRepetition(pin: string): boolean {
  for (let size = 1; size <= pin.length / 2; size++) {
    if (pin.length % size === 0 && pin.slice(0, size).repeat(pin.length / size) === pin) return true;
  }
  return false;
}

/** Why a PIN is too easy to guess, or undefined when it is not. */
export function weakPinReason(pin: string): string | undefined {
  if (isRepetition(pin)) return 'repeats the same digits';
  if (isRun(pin)) return 'is a run of consecutive digits';
  if (NOTORIOUS.has(pin)) return 'is one of the most common PINs';
  return undefined;
}

/** Throws `input.invalid` (field `pin`) unless the PIN is digits only, of an allowed length, and not weak. */
export function checkPin(pin: string, rules: PinRules): void {
  const invalid = (detail: string) => new MfaError('input.invalid', { field: 'pin', detail });
  if (typeof pin !== 'string' || !/^[0-9]+$/.test(pin)) throw invalid('digits only');
  if (pin.length < rules.minLength || pin.length > rules.maxLength)
    throw invalid(`${rules.minLength} to ${rules.maxLength} digits`);
  const weak = weakPinReason(pin);
  if (weak) throw invalid(`too easy to guess: it ${weak}`);
}
