// The one rule for changing a user's factors (DESIGN §6 rule 10). A user who has a factor needs it:
// a second factor proven within `stepUpSeconds`, or an administrator's open enrollment window. A user
// who has none enrols a first factor as the policy allows: with the password, from a trusted network,
// or inside a window (a window allows it whatever the policy).
import { MfaError } from '../errors.ts';
import { createNetworkList } from '../policy/networks.ts';
import type { Clock, EnrollmentWindowStore, FactorStore, RequestContext, UserRecord } from '../ports.ts';
import type { ChangeProof, ChangeStatus, EnrollmentSettings } from './types.ts';

/** How far ahead of this node's clock a proof may be (another node's clock), before it is not believed. */
const CLOCK_SKEW_MS = 60_000;

export function createChangeRule(deps: {
  factors: Pick<FactorStore, 'listTotpFactors'>;
  windows: Pick<EnrollmentWindowStore, 'findEnrollmentWindow'>;
  clock: Clock;
  settings: Pick<EnrollmentSettings, 'firstEnrollment' | 'trustedNetworks' | 'stepUpSeconds'>;
}) {
  const { factors, windows, clock, settings } = deps;
  const trusted = createNetworkList(settings.trustedNetworks);

  const windowOpen = async (user: UserRecord) =>
    (await windows.findEnrollmentWindow(user.id, clock.now())) !== undefined;

  /** The session proved the second factor (at sign-in or by a step-up) recently enough. */
  function recentSecondFactor(proof: ChangeProof): boolean {
    const now = clock.now();
    const fresh = (at: number | null | undefined) =>
      typeof at === 'number' &&
      Number.isFinite(at) &&
      now - at <= settings.stepUpSeconds * 1000 &&
      at - now <= CLOCK_SKEW_MS;
    // A caller that passes no proof at all gets none (plain JavaScript callers, bad session data).
    return fresh(proof?.secondFactorAt) || fresh(proof?.stepUpAt);
  }

  /** Whether a user without a factor may enrol one from here, now. */
  async function firstEnrollmentAllowed(user: UserRecord, ctx: RequestContext): Promise<boolean> {
    if (await windowOpen(user)) return true;
    switch (settings.firstEnrollment) {
      case 'password':
        return true;
      case 'trusted-networks':
        return trusted.contains(ctx.clientAddress);
      case 'window':
        return false;
    }
  }

  async function changeStatus(
    user: UserRecord,
    ctx: RequestContext,
    proof: ChangeProof,
  ): Promise<ChangeStatus> {
    const hasFactor = (await factors.listTotpFactors(user.id)).length > 0;
    if (!hasFactor) return (await firstEnrollmentAllowed(user, ctx)) ? 'allowed' : 'not_allowed';
    if (recentSecondFactor(proof) || (await windowOpen(user))) return 'allowed';
    return 'step_up_required';
  }

  /** Throws `enrollment.step_up_required` or `enrollment.not_allowed` unless the change may go ahead. */
  async function changeAllowed(user: UserRecord, ctx: RequestContext, proof: ChangeProof): Promise<void> {
    const status = await changeStatus(user, ctx, proof);
    if (status === 'step_up_required')
      throw new MfaError('enrollment.step_up_required', { detail: 'no recent second factor, no window' });
    if (status === 'not_allowed')
      throw new MfaError('enrollment.not_allowed', {
        detail: `first enrollment policy '${settings.firstEnrollment}'`,
      });
  }

  return { changeStatus, changeAllowed, firstEnrollmentAllowed, recentSecondFactor };
}

export type ChangeRule = ReturnType<typeof createChangeRule>;
