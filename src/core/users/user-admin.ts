// What administrators do to users (CLI, the portal's admin pages, the SDK): add, find, change
// settings, disable, enable, reset factors, unblock, enrol a TOTP seed, open an enrollment window,
// export a user's data and delete them. Each action is audited with the administrator's name.
import { enrollmentOverview } from '../enrollment/overview.ts';
import type { EnrollmentOverview } from '../enrollment/types.ts';
import { MfaError } from '../errors.ts';
import { checkPin, type PinRules } from '../factors/pin.ts';
import { generateTotpSeed, parseTotpSeed, type TotpSettings, totpUri } from '../factors/totp.ts';
import type {
  AuditSink,
  AuditStore,
  BypassStore,
  Channel,
  Clock,
  EnrollmentWindowStore,
  FactorStore,
  MobileDeviceStore,
  Random,
  SecurityAnswerStore,
  UserDeletionStore,
  UserFilter,
  UserRecord,
  UserStore,
} from '../ports.ts';
import { timeOrderedId } from '../random.ts';
import type { Regulator } from '../regulation/regulator.ts';
import { base32Encode } from '../secrets/base32.ts';
import type { SecretHasher } from '../secrets/secret-hash.ts';
import type { SessionRevocation } from '../sessions/revocation.ts';
import { createUserDeletion } from './user-deletion.ts';
import { createUserExport } from './user-export.ts';
import { checkPhones, settingsPatch, type UserSettingsInput } from './user-settings.ts';

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

export const ENROLLMENT_WINDOW_MAX_HOURS = 168;
const SEARCH_DEFAULT_LIMIT = 100;
const SEARCH_MAX_LIMIT = 1000;

/** 1-256 characters, none of them white space or a control character. */
const isPlainName = (name: string) =>
  name.length > 0 &&
  name.length <= 256 &&
  ![...name].some((c) => /\s/.test(c) || c.charCodeAt(0) < 0x20 || c === '\u007f');

export type { UserSettingsInput } from './user-settings.ts';

export function createUserAdmin(deps: {
  users: UserStore;
  factors: FactorStore;
  answers: SecurityAnswerStore;
  windows: EnrollmentWindowStore;
  devices: Pick<MobileDeviceStore, 'listMobileDevices'>;
  bypasses: Pick<BypassStore, 'createBypass'>;
  sessions: Pick<SessionRevocation, 'revokeUser'>;
  regulator: Regulator;
  audit: AuditSink;
  clock: Clock;
  random: Random;
  totp: TotpSettings;
  /** The portal's PIN rules and hasher: a PIN an administrator sets is held to the same rules. */
  pin: PinRules;
  hasher: Pick<SecretHasher, 'hash'>;
  auditStore: Pick<AuditStore, 'queryAudit'>;
  deletions: UserDeletionStore;
  /** `pseudonymKey(pepper)`: what an erasure names the user by in the audit log. */
  pseudonymKey: Uint8Array;
}) {
  const { users, factors, answers, windows, bypasses, sessions, regulator, audit, clock, random } = deps;

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

  const dataExport = createUserExport({ ...deps, users });
  const deletion = createUserDeletion({ ...deps, store: deps.deletions });

  return {
    find: require,

    /** A GDPR access request's answer: everything held about the user, no secret (user-export.ts). */
    exportData: dataExport.export,

    /** Deletes the user and every row about them; `erase` also pseudonymises their audit events. */
    delete: deletion.delete,

    /** Users by status and a substring of the username, display name or e-mail; at most 1000. */
    async search(filter: UserFilter = {}): Promise<UserRecord[]> {
      const limit = Math.min(
        Math.max(Math.trunc(filter.limit ?? SEARCH_DEFAULT_LIMIT) || 1, 1),
        SEARCH_MAX_LIMIT,
      );
      return users.listUsers({ ...filter, limit });
    },

    /** What the user has enrolled (labels, question ids, PIN set or not, open window), never a secret. */
    async overview(username: string): Promise<EnrollmentOverview> {
      return enrollmentOverview(
        { factors, answers, windows, devices: deps.devices, clock },
        await require(username),
      );
    },

    async updateSettings(username: string, input: UserSettingsInput, ctx: AdminContext): Promise<UserRecord> {
      const user = await require(username);
      const patch = settingsPatch(input);
      if (input.pin !== undefined && input.pin !== null) checkPin(input.pin, deps.pin);
      // Hashed only once every field has passed: argon2 is not spent on a request that fails anyway.
      if (input.pin !== undefined)
        patch.pinHash = input.pin === null ? null : await deps.hasher.hash(input.pin);
      const fields = Object.keys(patch);
      const updated = fields.length > 0 ? await users.updateUser(user.id, patch, clock.now()) : user;
      // The field's name, never its value: `pin`, not the hash.
      await record(ctx, 'admin.user_update', user.username, {
        fields: fields.map((f) => (f === 'pinHash' ? 'pin' : f)),
      });
      return updated;
    },

    /**
     * Lets the user enrol or replace a factor with the password alone for `hours` (1 to 168): a lost
     * phone, or a first enrollment where the policy asks for a window.
     */
    async issueEnrollmentWindow(
      username: string,
      hours: number,
      ctx: AdminContext,
    ): Promise<{ expiresAt: number }> {
      const user = await require(username);
      if (!Number.isInteger(hours) || hours < 1 || hours > ENROLLMENT_WINDOW_MAX_HOURS)
        throw new MfaError('input.invalid', {
          field: 'hours',
          detail: `a whole number from 1 to ${ENROLLMENT_WINDOW_MAX_HOURS}`,
        });
      const now = clock.now();
      const expiresAt = now + hours * 3_600_000;
      await windows.createEnrollmentWindow({
        id: timeOrderedId(now, random),
        userId: user.id,
        createdBy: ctx.actor,
        createdAt: now,
        expiresAt,
      });
      await record(ctx, 'admin.enrollment_window', user.username, { hours, expiresAt });
      return { expiresAt };
    },

    async add(input: NewUserInput, ctx: AdminContext): Promise<UserRecord> {
      const username = input.username.trim().toLowerCase();
      if (!isPlainName(username)) {
        throw new MfaError('input.invalid', {
          field: 'username',
          detail: 'no spaces or control characters, 1-256 long',
        });
      }
      const phones = checkPhones(input.phones ?? []);
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

    /**
     * Removes every second factor, the PIN and the security answers: the user enrols again (portal)
     * or gets a new seed (CLI). Returns how many TOTP factors were removed.
     */
    async reset(username: string, ctx: AdminContext): Promise<number> {
      const user = await require(username);
      const removed = await factors.removeFactors(user.id);
      const answersCleared = (await answers.listSecurityAnswers(user.id)).length;
      await answers.replaceSecurityAnswers(user.id, [], clock.now());
      await users.updateUser(user.id, { defaultMethod: null, pinHash: null }, clock.now());
      await record(ctx, 'admin.user_reset', user.username, {
        factorsRemoved: removed,
        answersCleared,
        pinCleared: user.pinHash !== null,
      });
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
      const seed = secretBase32 === undefined ? generateTotpSeed(random) : parseTotpSeed(secretBase32);
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
