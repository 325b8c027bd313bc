// TOTP (RFC 6238) as a second factor: verification with a ±window of steps, and the replay guard
// that accepts each code once per factor through a conditional update in the store.
import { generateURI, verify } from 'otplib';
import type { Clock, FactorStore, Random, TotpFactor, TotpParams } from '../ports.ts';
import { base32Encode } from '../secrets/base32.ts';

export interface TotpSettings extends TotpParams {
  issuer: string;
  /** Steps accepted either side of the current one. */
  window: number;
}

export type TotpCheck =
  | { ok: true; factorId: string; timeStep: number }
  | { ok: false; reason: 'malformed' | 'no_factor' | 'wrong_code' | 'replayed' };

export const SEED_BYTES = 20;

export function createTotpVerifier(deps: { factors: FactorStore; clock: Clock; window: number }) {
  const { factors, clock, window } = deps;

  async function matchStep(factor: TotpFactor, code: string): Promise<number | undefined> {
    const result = await verify({
      secret: factor.secret,
      token: code,
      algorithm: factor.algorithm,
      digits: factor.digits,
      period: factor.period,
      epoch: Math.floor(clock.now() / 1000),
      epochTolerance: window * factor.period,
    });
    return result.valid && 'timeStep' in result ? result.timeStep : undefined;
  }

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
