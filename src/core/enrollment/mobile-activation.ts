// Activating the web authenticator on a phone: the portal asks for a single-use code (the change
// rule applies, as to any new factor), the phone redeems it with its public key and receives a
// device id and an offline OATH seed. Only the code's hash is stored; it lives ten minutes.
import { createHash } from 'node:crypto';
import { MfaError } from '../errors.ts';
import { generateTotpSeed } from '../factors/totp.ts';
import type { MobileDeviceStore, RequestContext, TotpParams } from '../ports.ts';
import { parseDevicePublicKey } from '../push/device-signature.ts';
import { base32Encode } from '../secrets/base32.ts';
import type { SelfService } from './audited.ts';
import type { ChangeRule } from './change-rule.ts';
import type { ChangeProof, EnrollmentDeps } from './types.ts';

/** 16 base32 characters: 80 bits, typed as four groups when the camera cannot read the QR code. */
const CODE_BYTES = 10;
const DEVICE_NAME_MAX = 64;

export interface MobileActivationSettings {
  allow: boolean;
  maxDevices: number;
  activationTtlSeconds: number;
}

export interface ActivatedDevice {
  deviceId: string;
  username: string;
  issuer: string;
  totp: { secret: string; algorithm: 'SHA1' | 'SHA256' | 'SHA512'; digits: number; period: number };
  pinRequired: boolean;
}

const normaliseCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');
export const hashActivationCode = (code: string) =>
  createHash('sha256').update(normaliseCode(code)).digest('base64url');

function checkDeviceName(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : '';
  if (
    name.length === 0 ||
    [...name].length > DEVICE_NAME_MAX ||
    [...name].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f')
  )
    throw new MfaError('input.invalid', {
      field: 'deviceName',
      detail: `1 to ${DEVICE_NAME_MAX} characters`,
    });
  return name;
}

export function createMobileActivation(
  deps: Pick<EnrollmentDeps, 'users' | 'audit' | 'clock' | 'random' | 'settings'> & {
    devices: MobileDeviceStore;
    /** PIN mode: the app asks for the PIN before approving (told to the app at activation). */
    pinMode: boolean;
  },
  self: SelfService,
  rule: ChangeRule,
) {
  const { users, devices, clock, random, settings } = deps;
  const mobile = settings.mobile;
  const { algorithm, digits, period, issuer } = settings.totp;
  const params: TotpParams = { algorithm, digits, period };

  async function assertRoom(userId: string): Promise<void> {
    if ((await devices.listMobileDevices(userId)).length >= mobile.maxDevices)
      throw new MfaError('mobile.too_many_devices', { detail: `at most ${mobile.maxDevices}` });
  }

  async function createCode(userId: string, createdBy: string): Promise<{ code: string; expiresAt: number }> {
    const code = base32Encode(random.bytes(CODE_BYTES)).match(/.{4}/g)?.join('-') ?? '';
    const now = clock.now();
    const expiresAt = now + mobile.activationTtlSeconds * 1000;
    await devices.createActivationCode({
      codeHash: hashActivationCode(code),
      userId,
      createdBy,
      createdAt: now,
      expiresAt,
    });
    return { code, expiresAt };
  }

  return {
    /**
     * A code an administrator (help desk, CLI, later the SDK) issues for a user: the administrator's
     * word stands in for the user's step-up, as with an enrollment window. Audited with the actor.
     */
    async issueActivationCodeAsAdmin(
      username: string,
      ctx: RequestContext & { actor: string },
    ): Promise<{ code: string; expiresAt: number }> {
      if (!mobile.allow)
        throw new MfaError('enrollment.not_allowed', { detail: 'mobile app activation is off' });
      const user = await self.activeUser(username);
      await assertRoom(user.id);
      const issued = await createCode(user.id, ctx.actor);
      await deps.audit.record({
        at: clock.now(),
        type: 'admin.mobile_activation_code',
        outcome: 'success',
        channel: ctx.channel,
        username: user.username,
        clientAddress: ctx.clientAddress,
        reason: null,
        actor: ctx.actor,
        application: ctx.application ?? null,
        details: { expiresAt: issued.expiresAt },
      });
      return issued;
    },

    /**
     * A code for the signed-in user's next phone. Adding a phone is adding a factor: the same rule
     * (step-up, window or first enrollment) decides, and the device count is checked now and again
     * when the code is redeemed.
     */
    async issueActivationCode(
      username: string,
      ctx: RequestContext,
      proof: ChangeProof,
    ): Promise<{ code: string; expiresAt: number }> {
      return self.audited(ctx, 'enrollment.mobile_code_issued', username, async () => {
        if (!mobile.allow)
          throw new MfaError('enrollment.not_allowed', { detail: 'mobile app activation is off' });
        const user = await self.activeUser(username);
        await rule.changeAllowed(user, ctx, proof);
        await assertRoom(user.id);
        return { value: await createCode(user.id, user.username) };
      });
    },

    /**
     * The phone redeems a code: the code is spent first (single use, even if what follows fails),
     * then the device and its offline seed are saved, and push becomes the user's method.
     */
    async activateDevice(
      input: { code: unknown; deviceName: unknown; publicKey: unknown },
      ctx: RequestContext,
    ): Promise<ActivatedDevice> {
      const deviceName = checkDeviceName(input.deviceName);
      const publicKey = await parseDevicePublicKey(input.publicKey);
      if (typeof input.code !== 'string' || input.code.length > 64)
        throw new MfaError('mobile.activation_invalid', { detail: 'no code' });
      const redeemed = mobile.allow
        ? await devices.consumeActivationCode(hashActivationCode(input.code), clock.now())
        : undefined;
      if (!redeemed)
        throw new MfaError('mobile.activation_invalid', { detail: 'unknown, used or expired code' });
      const owner = await users.getUser(redeemed.userId);
      if (!owner) throw new MfaError('mobile.activation_invalid', { detail: 'user removed' });
      return self.audited(ctx, 'enrollment.mobile_activated', owner.username, async () => {
        const user = await self.activeUser(owner.username);
        await assertRoom(user.id);
        const seed = generateTotpSeed(random);
        const device = await devices.addMobileDevice(
          { userId: user.id, name: deviceName, publicKey, createdAt: clock.now() },
          { label: `Mobile app: ${deviceName}`, secret: seed, params },
        );
        if (settings.methods.includes('push') && user.defaultMethod !== 'push')
          await users.updateUser(user.id, { defaultMethod: 'push' }, clock.now());
        return {
          value: {
            deviceId: device.id,
            username: user.username,
            issuer,
            totp: {
              secret: base32Encode(seed),
              algorithm: algorithm.toUpperCase() as ActivatedDevice['totp']['algorithm'],
              digits,
              period,
            },
            pinRequired: deps.pinMode && user.pinHash !== null,
          },
          details: { deviceId: device.id, factorId: device.factorId },
        };
      });
    },
  };
}
