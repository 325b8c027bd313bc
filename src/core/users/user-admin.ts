// What administrators do to users (CLI today, the portal's admin pages later): add, disable, enable,
// reset factors, unblock, enrol a TOTP seed. Each action is audited with the administrator's name.
import { MfaError } from '../errors.ts';
import { generateTotpSeed, type TotpSettings, totpUri } from '../factors/totp.ts';
import type { AuditSink, Channel, Clock, FactorStore, Random, UserRecord, UserStore } from '../ports.ts';
import type { Regulator } from '../regulation/regulator.ts';
import { base32Encode } from '../secrets/base32.ts';

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

export function createUserAdmin(deps: {
  users: UserStore;
  factors: FactorStore;
  regulator: Regulator;
  audit: AuditSink;
  clock: Clock;
  random: Random;
  totp: TotpSettings;
}) {
  const { users, factors, regulator, audit, clock, random } = deps;

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

    disable: (username: string, ctx: AdminContext) =>
      setStatus(username, 'disabled', ctx, 'admin.user_disable'),
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

    /** A new TOTP seed for the user; the secret is shown once and then kept only encrypted. */
    async enrollTotp(username: string, ctx: AdminContext, label = 'authenticator'): Promise<TotpEnrollment> {
      const user = await require(username);
      const seed = generateTotpSeed(random);
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
