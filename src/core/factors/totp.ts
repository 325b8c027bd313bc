// TOTP (RFC 6238) as a second factor: verification with a ±window of steps, and the replay guard
// that accepts each code once per factor through a conditional update in the store.
import { generateURI, verify } from 'otplib';
import { MfaError } from '../errors.ts';
import type { Clock, FactorStore, Random, TotpFactor, TotpParams } from '../ports.ts';
import { base32Decode, base32Encode } from '../secrets/base32.ts';

export interface TotpSettings extends TotpParams {
  issuer: string;
  /** Steps accepted either side of the current one. */
  window: number;
}

export type TotpCheck =
  | { ok: true; factorId: string; timeStep: number }
  | { ok: false; reason: 'malformed' | 'no_factor' | 'wrong_code' | 'replayed' };

export const SEED_BYTES = 20;
/** RFC 4226's minimum: shorter seeds are refused (otplib throws on them too). */
export const MIN_SEED_BYTES = 16;

/**
 * The time step `code` matches for this seed within ±`window` steps of `now`, or undefined. A code
 * that is not exactly `digits` digits is a mismatch (otplib would throw on it).
 */
export async function matchTotpStep(
  seed: Uint8Array,
  params: TotpParams,
  code: string,
  now: number,
  window: number,
): Promise<number | undefined> {
  if (code.length !== params.digits || !/^[0-9]+$/.test(code) || seed.length < MIN_SEED_BYTES)
    return undefined;
  const result = await verify({
    secret: seed,
    token: code,
    algorithm: params.algorithm,
    digits: params.digits,
    period: params.period,
    epoch: Math.floor(now / 1000),
    epochTolerance: window * params.period,
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

/** A seed typed or imported in base32 (spaces, padding and lower case allowed), at least 128 bits. */
export function parseTotpSeed(secretBase32: string, field = 'secret'): Uint8Array {
  let seed: Uint8Array;
  try {
    seed = base32Decode(String(secretBase32).replace(/[\s=]/g, ''));
  } catch {
    throw new MfaError('input.invalid', { field, detail: 'not base32' });
  }
  if (seed.length < MIN_SEED_BYTES)
    throw new MfaError('input.invalid', { field, detail: 'at least 16 bytes (26 base32 characters)' });
  return seed;
}

export function createTotpVerifier(deps: { factors: FactorStore; clock: Clock; window: number }) {
  const { factors, clock, window } = deps;

  const matchStep = (factor: TotpFactor, code: string) =>
    matchTotpStep(factor.secret, factor, code, clock.now(), window);

  return async function verifyTotp(userId: string, code: string): Promise<TotpCheck> {
    const userFactors = await factors.listTotpFactors(userId);
    if (userFactors.length === 0) return { ok: false, reason: 'no_factor' };
    const candidate = code.replace(/\s+/g, '');
    const fits = (factor: TotpFactor) => candidate.length === factor.digits && /^\d+$/.test(candidate);
    let replayed = false;
    for (const factor of userFactors) {
      if (!fits(factor)) continue;
      const timeStep = await matchStep(factor, candidate);
      if (timeStep === undefined) continue;
      // The conditional update is the replay guard: atomic, so two racing requests cannot both win.
      if (await factors.acceptTimeStep(factor.id, timeStep, clock.now()))
        return { ok: true, factorId: factor.id, timeStep };
      replayed = true;
    }
    if (replayed) return { ok: false, reason: 'replayed' };
    return { ok: false, reason: userFactors.some(fits) ? 'wrong_code' : 'malformed' };
  };
}

export function generateTotpSeed(random: Random): Uint8Array {
  return random.bytes(SEED_BYTES);
}

/** The otpauth:// URI an authenticator app scans (issuer and account shown in the app). */
export function totpUri(
  seed: Uint8Array,
  account: string,
  settings: Pick<TotpSettings, 'issuer' | 'algorithm' | 'digits' | 'period'>,
): string {
  return generateURI({
    issuer: settings.issuer,
    label: account,
    secret: base32Encode(seed),
    algorithm: settings.algorithm,
    digits: settings.digits,
    period: settings.period,
  });
}
