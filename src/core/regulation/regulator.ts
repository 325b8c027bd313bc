// Regulation: failures are counted per user and per client address; either counter reaching its
// limit within the window locks that subject for the ban time. A locked subject is refused before
// any password check, and the client is told only that the sign-in failed.
import { MfaError } from '../errors.ts';
import type { AuditSink, Clock, RegulationStore, RequestContext } from '../ports.ts';

export interface Limit {
  maxFailures: number;
  windowSeconds: number;
  banSeconds: number;
}

export interface RegulationSettings {
  enabled: boolean;
  user: Limit;
  address: Limit;
}

export const userSubject = (username: string) => `user:${username.trim().toLowerCase()}`;
export const addressSubject = (address: string) => `addr:${address}`;

export type Regulator = ReturnType<typeof createRegulator>;

export function createRegulator(deps: {
  store: RegulationStore;
  clock: Clock;
  audit: AuditSink;
  settings: RegulationSettings;
}) {
  const { store, clock, audit, settings } = deps;

  async function isLocked(subject: string): Promise<boolean> {
    const counter = await store.getCounter(subject);
    return counter?.lockedUntil != null && counter.lockedUntil > clock.now();
  }

  async function count(subject: string, limit: Limit, username: string, ctx: RequestContext): Promise<void> {
    const at = clock.now();
    const counter = await store.addFailure(
      subject,
      at,
      limit.windowSeconds * 1000,
      limit.maxFailures,
      limit.banSeconds * 1000,
    );
    // Audit the lockout once: on the failure that reached the limit.
    if (counter.failures === limit.maxFailures && counter.lockedUntil !== null) {
      await audit.record({
        at,
        type: 'regulation.lockout',
        outcome: 'info',
        channel: ctx.channel,
        username,
        clientAddress: ctx.clientAddress,
        reason: subject.startsWith('user:') ? 'user_failures' : 'address_failures',
        actor: null,
        application: ctx.application ?? null,
        details: { subject, failures: counter.failures, lockedUntil: counter.lockedUntil },
      });
    }
  }

  /**
   * A NAS that did not say who is behind it speaks for every user of the VPN: counting its address
   * would let one guesser lock everyone out, so only the per-user limit applies.
   */
  const addressCounted = (ctx: RequestContext) => !(ctx.nas && ctx.nas.address === ctx.clientAddress);

  return {
    /** Throws `auth.locked` when the user or the client address is locked out. */
    async assertAllowed(username: string, ctx: RequestContext): Promise<void> {
      if (!settings.enabled) return;
      if (await isLocked(userSubject(username)))
        throw new MfaError('auth.locked', { detail: 'user locked out' });
      if (addressCounted(ctx) && (await isLocked(addressSubject(ctx.clientAddress)))) {
        throw new MfaError('auth.locked', { detail: `address ${ctx.clientAddress} locked out` });
      }
    },

    async recordFailure(username: string, ctx: RequestContext): Promise<void> {
      if (!settings.enabled) return;
      await count(userSubject(username), settings.user, username, ctx);
      if (addressCounted(ctx))
        await count(addressSubject(ctx.clientAddress), settings.address, username, ctx);
    },

    /** A completed sign-in forgives the user's earlier failures (not the address's). */
    async recordSuccess(username: string): Promise<void> {
      if (!settings.enabled) return;
      const subject = userSubject(username);
      if (!(await isLocked(subject))) await store.clearCounter(subject);
    },

    async isUserLocked(username: string): Promise<boolean> {
      return isLocked(userSubject(username));
    },

    /** Administrators lift a lockout; returns whether there was anything to clear. */
    async unblockUser(username: string): Promise<boolean> {
      return store.clearCounter(userSubject(username));
    },

    async unblockAddress(address: string): Promise<boolean> {
      return store.clearCounter(addressSubject(address));
    },
  };
}
