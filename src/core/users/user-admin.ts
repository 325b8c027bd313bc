// What administrators do to users (CLI today, the portal's admin pages later): add, disable, enable,
// reset factors, unblock, enrol a TOTP seed. Each action is audited with the administrator's name.
import { MfaError } from '../errors.ts';
import { generateTotpSeed, type TotpSettings, totpUri } from '../factors/totp.ts';
import type {
  AuditSink,
  BypassStore,
  Channel,
  Clock,
  FactorStore,
  Random,
  UserRecord,
  UserStore,
} from '../ports.ts';
import { timeOrderedId } from '../random.ts';
import type { Regulator } from '../regulation/regulator.ts';
import { base32Decode, base32Encode } from '../secrets/base32.ts';
import type { SessionRevocation } from '../sessions/revocation.ts';

export interface AdminContext {
  actor: string;
  channel: Channel;
  clientAddress: string;
}

export interface NewUserInput {
  username: string;
  displayName?: string;
  email?: string;
  phones?: string[];
}

export interface TotpEnrollment {
  factorId: string;
  secretBase32: string;
  uri: string;
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** 1-256 characters, none of them white space or a control character. */
const isPlainName = (name: string) =>
  name.length > 0 &&
  name.length <= 256 &&
  ![...name].some((c) => /\s/.test(c) || c.charCodeAt(0) < 0x20 || c === '\u007f');

/** An imported seed must decode and be at least 128 bits (RFC 4226's minimum). */
function importedSeed(secretBase32: string): Uint8Array {
  let seed: Uint8Array;
  try {
    seed = base32Decode(secretBase32.replace(/[\s=]/g, ''));
  } catch {
    throw new MfaError('input.invalid', { field: 'secret', detail: 'not base32' });
  }
  if (seed.length < 16)
    throw new MfaError('input.invalid', {
      field: 'secret',
      detail: 'at least 16 bytes (26 base32 characters)',
    });
  return seed;
}

export function createUserAdmin(deps: {
  users: UserStore;
  factors: FactorStore;
  bypasses: Pick<BypassStore, 'createBypass'>;
  sessions: Pick<SessionRevocation, 'revokeUser'>;
  regulator: Regulator;
  audit: AuditSink;
  clock: Clock;
  random: Random;
  totp: TotpSettings;
}) {
  const { users, factors, bypasses, sessions, regulator, audit, clock, random } = deps;

  const record = (
    ctx: AdminContext,
    type: string,
    username: string,
    details: Record<string, unknown> | null = null,
  ) =>
    audit.record({
      at: clock.now(),
      type,
      outcome: 'success',
      channel: ctx.channel,
      username,
      clientAddress: ctx.clientAddress,
      reason: null,
      actor: ctx.actor,
      application: null,
      details,
    });

  async function require(username: string): Promise<UserRecord> {
    const user = await users.findUserByName(username);
    if (!user) throw new MfaError('user.not_found', { detail: username });
    return user;
  }

  async function setStatus(username: string, status: UserRecord['status'], ctx: AdminContext, type: string) {
    const user = await require(username);
    const updated = await users.updateUser(user.id, { status }, clock.now());
    await record(ctx, type, user.username, { from: user.status, to: status });
    return updated;
  }

  return {
    find: require,

    async add(input: NewUserInput, ctx: AdminContext): Promise<UserRecord> {
      const username = input.username.trim().toLowerCase();
      if (!isPlainName(username)) {
        throw new MfaError('input.invalid', {
          field: 'username',
          detail: 'no spaces or control characters, 1-256 long',
        });
      }
      const phones = input.phones ?? [];
      const badPhone = phones.findIndex((p) => !E164.test(p));
      if (badPhone >= 0)
        throw new MfaError('input.invalid', {
          field: `phones[${badPhone}]`,
          detail: 'E.164, e.g. +14155550100',
        });
      const user = await users.createUser(
        {
          username,
          uniqueId: null,
          displayName: input.displayName ?? null,
          email: input.email ?? null,
          phones,
          defaultMethod: null,
          language: null,
          status: 'enabled',
          pinHash: null,
          fromDirectory: false,
        },
        clock.now(),
      );
      await record(ctx, 'admin.user_add', user.username);
      return user;
    },

    /** Disabling also ends every session the user holds, on every protected app. */
    async disable(username: string, ctx: AdminContext): Promise<UserRecord> {
      const updated = await setStatus(username, 'disabled', ctx, 'admin.user_disable');
      await sessions.revokeUser(updated.username);
      return updated;
    },
    enable: (username: string, ctx: AdminContext) => setStatus(username, 'enabled', ctx, 'admin.user_enable'),

    /** Removes every second factor: the user enrols again (portal) or gets a new seed (CLI). */
    async reset(username: string, ctx: AdminContext): Promise<number> {
      const user = await require(username);
      const removed = await factors.removeFactors(user.id);
      await users.updateUser(user.id, { defaultMethod: null }, clock.now());
      await record(ctx, 'admin.user_reset', user.username, { factorsRemoved: removed });
      return removed;
    },

    /** Lifts a lockout and a fraud block alike. */
    async unblock(
      username: string,
      ctx: AdminContext,
    ): Promise<{ lockoutCleared: boolean; wasBlocked: boolean }> {
      const canonical = username.trim().toLowerCase();
      const user = await users.findUserByName(canonical);
      const lockoutCleared = await regulator.unblockUser(canonical);
      const wasBlocked = user?.status === 'blocked';
      if (user && wasBlocked) await users.updateUser(user.id, { status: 'enabled' }, clock.now());
      if (!user && !lockoutCleared) throw new MfaError('user.not_found', { detail: username });
      await record(ctx, 'admin.user_unblock', canonical, { lockoutCleared, wasBlocked });
      return { lockoutCleared, wasBlocked };
    },

    /**
     * Lets the user through the second factor once within `seconds` (Azure's one-time bypass), for
     * a lost phone. Spent by the next sign-in that needs the second factor.
     */
    async issueBypass(
      username: string,
      input: { seconds: number; reason?: string },
      ctx: AdminContext,
    ): Promise<{ id: string; expiresAt: number }> {
      const user = await require(username);
      if (!Number.isInteger(input.seconds) || input.seconds < 1 || input.seconds > 86_400)
        throw new MfaError('input.invalid', { field: 'seconds', detail: 'a whole number from 1 to 86400' });
      const now = clock.now();
      const bypass = {
        id: timeOrderedId(now, random),
        userId: user.id,
        createdBy: ctx.actor,
        reason: input.reason ?? null,
        createdAt: now,
        expiresAt: now + input.seconds * 1000,
      };
      await bypasses.createBypass(bypass);
      await record(ctx, 'admin.bypass_issued', user.username, {
        seconds: input.seconds,
        reason: bypass.reason,
      });
      return { id: bypass.id, expiresAt: bypass.expiresAt };
    },

    /**
     * A TOTP seed for the user: a new random one, or `secretBase32` to import an existing token
     * (a hardware token's seed file). The secret is shown once and then kept only encrypted.
     */
    async enrollTotp(
      username: string,
      ctx: AdminContext,
      label = 'authenticator',
      secretBase32?: string,
    ): Promise<TotpEnrollment> {
      const user = await require(username);
      const seed = secretBase32 === undefined ? generateTotpSeed(random) : importedSeed(secretBase32);
      const { algorithm, digits, period, issuer } = deps.totp;
      const factor = await factors.addTotpFactor(
        user.id,
        label,
        seed,
        { algorithm, digits, period },
        clock.now(),
      );
      if (!user.defaultMethod) await users.updateUser(user.id, { defaultMethod: 'totp' }, clock.now());
      await record(ctx, 'enrollment.totp_added', user.username, { factorId: factor.id, by: 'admin' });
      return {
        factorId: factor.id,
        secretBase32: base32Encode(seed),
        uri: totpUri(seed, user.username, { issuer, algorithm, digits, period }),
      };
    },
  };
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;
