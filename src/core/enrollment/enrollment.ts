// Self-service enrollment (the portal's core): what a user may add or change, and when a step-up is
// needed. One rule decides every change (change-rule.ts); every change and refusal is audited with
// the user as the actor. No framework here: the portal passes usernames, a request context and
// what its session proves.
import { MfaError } from '../errors.ts';
import type { RequestContext, StoredAuditEvent, UserRecord } from '../ports.ts';
import { timeOrderedId } from '../random.ts';
import { createSelfService } from './audited.ts';
import { createChangeRule } from './change-rule.ts';
import { createMobileActivation } from './mobile-activation.ts';
import { enrollmentOverview } from './overview.ts';
import { createProfile } from './profile.ts';
import { createTotpEnrollment } from './totp-enrollment.ts';
import type { ChangeProof, ChangeStatus, EnrollmentDeps, EnrollmentOverview } from './types.ts';

export const USER_BYPASS_MIN_SECONDS = 30;
const SIGN_INS_MAX = 100;

export function createEnrollment(deps: EnrollmentDeps) {
  const { factors, answers, windows, bypasses, auditStore, regulator, clock, random, settings } = deps;
  const self = createSelfService(deps);
  const rule = createChangeRule(deps);
  const resolve = (user: UserRecord | string) =>
    typeof user === 'string' ? self.findUser(user) : Promise.resolve(user);

  return {
    ...createTotpEnrollment(deps, self, rule),
    ...createProfile(deps, self, rule),
    ...createMobileActivation(deps, self, rule),

    async overview(username: string): Promise<EnrollmentOverview> {
      return enrollmentOverview(
        { factors, answers, windows, devices: deps.devices, clock },
        await self.findUser(username),
      );
    },

    /** Throws `enrollment.step_up_required` / `enrollment.not_allowed` unless the rule lets the change go ahead. */
    async changeAllowed(user: UserRecord | string, ctx: RequestContext, proof: ChangeProof): Promise<void> {
      await rule.changeAllowed(await resolve(user), ctx, proof);
    },

    /** The same rule without throwing, for pages that offer a step-up or explain a refusal. */
    async changeStatus(
      user: UserRecord | string,
      ctx: RequestContext,
      proof: ChangeProof,
    ): Promise<ChangeStatus> {
      return rule.changeStatus(await resolve(user), ctx, proof);
    },

    /** Whether a user without a factor may enrol one from here, now (policy and enrollment window). */
    async firstEnrollmentAllowed(user: UserRecord | string, ctx: RequestContext): Promise<boolean> {
      return rule.firstEnrollmentAllowed(await resolve(user), ctx);
    },

    /** Proves the second factor again for a sensitive change; returns the time to keep in the session. */
    async stepUp(username: string, code: string, ctx: RequestContext): Promise<number> {
      return self.audited(ctx, 'auth.step_up', username, async () => {
        const user = await self.activeUser(username);
        await regulator.assertAllowed(user.username, ctx);
        const check = await deps.verifyTotp(user.id, typeof code === 'string' ? code : '');
        if (!check.ok) {
          await regulator.recordFailure(user.username, ctx);
          throw new MfaError(check.reason === 'no_factor' ? 'auth.no_second_factor' : 'auth.invalid_code', {
            detail: check.reason,
          });
        }
        await regulator.recordSuccess(user.username);
        return { value: clock.now(), reason: 'totp', details: { factorId: check.factorId } };
      });
    },

    /**
     * A one-time bypass the user gives themselves (Azure's "Allow user one-time bypass"), e.g. before
     * a trip without their phone. It lets the next sign-in through without the second factor, so it
     * needs that factor proven recently (a window does not count) and is capped by `maxSeconds`.
     */
    async issueUserBypass(
      username: string,
      seconds: number,
      ctx: RequestContext,
      proof: ChangeProof,
    ): Promise<{ expiresAt: number }> {
      return self.audited(ctx, 'user.bypass_issued', username, async () => {
        if (!settings.userBypass.allow)
          throw new MfaError('auth.forbidden', { detail: 'user bypass is off' });
        const user = await self.activeUser(username);
        if ((await factors.listTotpFactors(user.id)).length === 0)
          throw new MfaError('auth.forbidden', { detail: 'no second factor to bypass' });
        if (!rule.recentSecondFactor(proof)) throw new MfaError('enrollment.step_up_required');
        const max = settings.userBypass.maxSeconds;
        if (!Number.isInteger(seconds) || seconds < USER_BYPASS_MIN_SECONDS || seconds > max)
          throw new MfaError('input.invalid', {
            field: 'seconds',
            detail: `a whole number from ${USER_BYPASS_MIN_SECONDS} to ${max}`,
          });
        const now = clock.now();
        const expiresAt = now + seconds * 1000;
        await bypasses.createBypass({
          id: timeOrderedId(now, random),
          userId: user.id,
          createdBy: user.username,
          reason: 'user',
          createdAt: now,
          expiresAt,
        });
        return { value: { expiresAt }, details: { seconds } };
      });
    },

    /** The user's latest sign-in events (`auth.*`), newest first. */
    async recentSignIns(username: string, limit = 10): Promise<StoredAuditEvent[]> {
      const user = await self.findUser(username);
      const bounded = Math.min(Math.max(Math.trunc(limit) || 1, 1), SIGN_INS_MAX);
      return auditStore.queryAudit({
        username: user.username,
        type: 'auth.',
        order: 'newest',
        limit: bounded,
      });
    },
  };
}

export type Enrollment = ReturnType<typeof createEnrollment>;
