// Adding, replacing and removing a user's TOTP factors. A new seed is saved only once the user has
// typed a code from it, and that code's time step is spent at once, so it cannot also sign in.
import { MfaError } from '../errors.ts';
import { generateTotpSeed, matchTotpStep, parseTotpSeed, totpUri } from '../factors/totp.ts';
import type { RequestContext, TotpParams } from '../ports.ts';
import { base32Encode } from '../secrets/base32.ts';
import type { SelfService } from './audited.ts';
import type { ChangeRule } from './change-rule.ts';
import { summariseFactor } from './overview.ts';
import type { ChangeProof, EnrollmentDeps, FactorSummary } from './types.ts';

export interface TotpConfirmation {
  /** The draft seed from `newTotpSeed` (or an imported token's seed), in base32. */
  secretBase32: string;
  /** A code the authenticator shows for that seed now. */
  code: string;
  label?: string;
  /** Remove the user's other TOTP factors once this one is saved (a new phone). */
  replace?: boolean;
}

const DEFAULT_LABEL = 'authenticator';
const LABEL_MAX = 64;

function checkLabel(label: string | undefined, fallback: string | undefined): string {
  const text = typeof label === 'string' ? label.trim() : '';
  const chosen = text.length > 0 ? text : fallback;
  if (
    chosen === undefined ||
    [...chosen].length > LABEL_MAX ||
    [...chosen].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f')
  )
    throw new MfaError('input.invalid', { field: 'label', detail: `1 to ${LABEL_MAX} characters` });
  return chosen;
}

export function createTotpEnrollment(
  deps: Pick<EnrollmentDeps, 'users' | 'factors' | 'devices' | 'regulator' | 'clock' | 'random' | 'settings'>,
  self: SelfService,
  rule: ChangeRule,
) {
  const { users, factors, regulator, clock, random, settings } = deps;
  const { algorithm, digits, period, issuer, window } = settings.totp;
  const params: TotpParams = { algorithm, digits, period };

  /** Saves the seed only when `code` matches it; spends that code's step; optionally retires the others. */
  async function addVerified(
    username: string,
    input: TotpConfirmation,
    ctx: RequestContext,
    proof: ChangeProof,
    source: 'app' | 'oath_token',
  ): Promise<FactorSummary> {
    return self.audited(ctx, 'enrollment.totp_added', username, async () => {
      const user = await self.activeUser(username);
      await rule.changeAllowed(user, ctx, proof);
      const seed = parseTotpSeed(input.secretBase32);
      const label = checkLabel(input.label, source === 'app' ? DEFAULT_LABEL : undefined);
      await regulator.assertAllowed(user.username, ctx);
      const code = typeof input.code === 'string' ? input.code.replace(/\s+/g, '') : '';
      const step = await matchTotpStep(seed, params, code, clock.now(), window);
      if (step === undefined) {
        await regulator.recordFailure(user.username, ctx);
        throw new MfaError('auth.invalid_code', { detail: 'the code does not match the new seed' });
      }
      const factor = await factors.addTotpFactor(user.id, label, seed, params, clock.now());
      await factors.acceptTimeStep(factor.id, step, clock.now());
      let replaced = 0;
      if (input.replace === true) {
        // A new authenticator app replaces the old apps, not the phones of the web authenticator.
        const phones = new Set((await deps.devices.listMobileDevices(user.id)).map((d) => d.factorId));
        for (const other of await factors.listTotpFactors(user.id)) {
          if (other.id === factor.id || phones.has(other.id)) continue;
          if (await factors.removeFactor(user.id, other.id)) replaced += 1;
        }
      }
      if (!user.defaultMethod) await users.updateUser(user.id, { defaultMethod: 'totp' }, clock.now());
      return { value: summariseFactor(factor), details: { factorId: factor.id, replaced, source } };
    });
  }

  return {
    /**
     * A fresh seed to show as a QR code, for the signed-in user (the account name in the app). Nothing
     * is looked up or saved: the caller keeps the draft until `confirmTotp`.
     */
    /** Async like every enrollment call: an edge node asks the internal node for it. */
    async newTotpSeed(username: string): Promise<{ secretBase32: string; uri: string }> {
      const seed = generateTotpSeed(random);
      return {
        secretBase32: base32Encode(seed),
        uri: totpUri(seed, username.trim().toLowerCase(), { issuer, algorithm, digits, period }),
      };
    },

    confirmTotp: (username: string, input: TotpConfirmation, ctx: RequestContext, proof: ChangeProof) =>
      addVerified(username, input, ctx, proof, 'app'),

    /** A third-party OATH token (its seed from the vendor's file): the same checks, and a label is required. */
    importOathToken: (
      username: string,
      input: Omit<TotpConfirmation, 'label'> & { label: string },
      ctx: RequestContext,
      proof: ChangeProof,
    ) => addVerified(username, input, ctx, proof, 'oath_token'),

    /** Removing the last factor is allowed; the default method then falls back to none. */
    async removeFactor(username: string, factorId: string, ctx: RequestContext, proof: ChangeProof) {
      return self.audited(ctx, 'enrollment.factor_removed', username, async () => {
        const user = await self.activeUser(username);
        await rule.changeAllowed(user, ctx, proof);
        if (typeof factorId !== 'string' || !(await factors.removeFactor(user.id, factorId)))
          throw new MfaError('not_found', { detail: 'no such factor for this user' });
        const remaining = (await factors.listTotpFactors(user.id)).length;
        const phones = (await deps.devices.listMobileDevices(user.id)).length;
        // The method follows what is left: no phone, no push; no app either, no code (SMS stays).
        const needsApp = user.defaultMethod === 'totp' || user.defaultMethod === 'push';
        const method =
          remaining === 0 && needsApp
            ? null
            : user.defaultMethod === 'push' && phones === 0
              ? 'totp'
              : user.defaultMethod;
        if (method !== user.defaultMethod)
          await users.updateUser(user.id, { defaultMethod: method }, clock.now());
        return { value: undefined, details: { factorId, remaining } };
      });
    },
  };
}
