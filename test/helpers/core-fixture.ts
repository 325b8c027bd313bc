// Builds the core's services over in-memory ports and a fixed clock, with named personas.
import { CompactSign, type CryptoKey, exportJWK, generateKeyPair } from 'jose';
import type { AuthSettings } from '../../src/core/auth/authenticator.ts';
import { createFixedClock } from '../../src/core/clock.ts';
import { type CoreSettings, createCore } from '../../src/core/create-core.ts';
import type { ActivatedDevice } from '../../src/core/enrollment/mobile-activation.ts';
import type { EnrollmentSettings } from '../../src/core/enrollment/types.ts';
import type { TotpSettings } from '../../src/core/factors/totp.ts';
import type {
  AdminNotifier,
  FraudAlert,
  JsonWebKeyP256,
  PushSender,
  RequestContext,
} from '../../src/core/ports.ts';
import { ANSWER_TYPE, DEVICE_PROOF_TYPE } from '../../src/core/push/device-signature.ts';
import { systemRandom } from '../../src/core/random.ts';
import type { RegulationSettings } from '../../src/core/regulation/regulator.ts';
import { derivePepper } from '../../src/core/secrets/secret-hash.ts';
import { createMemoryDirectory, createMemoryStore } from './memory-ports.ts';

/** 2026-11-23T12:00:00Z, on a 30-second step boundary. */
export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

export const WEB: RequestContext = { channel: 'web', clientAddress: '192.0.2.10', application: 'intranet' };
export const ATTACKER: RequestContext = {
  channel: 'web',
  clientAddress: '203.0.113.66',
  application: 'intranet',
};
/** The portal, from inside the office network (a trusted network in the fixture's settings). */
export const PORTAL_OFFICE: RequestContext = {
  channel: 'portal',
  clientAddress: '10.1.2.3',
  application: 'portal',
};
/** The portal, from a hotel. */
export const PORTAL_OUTSIDE: RequestContext = {
  channel: 'portal',
  clientAddress: '198.51.100.7',
  application: 'portal',
};

export const TOTP: TotpSettings = { issuer: 'test', algorithm: 'sha1', digits: 6, period: 30, window: 1 };

export const QUESTION_IDS = ['first-pet', 'birth-city', 'first-school', 'first-car'];

export const ENROLLMENT: Omit<EnrollmentSettings, 'totp'> = {
  firstEnrollment: 'password',
  trustedNetworks: ['10.0.0.0/8'],
  methods: ['totp', 'sms'],
  pin: { minLength: 4, maxLength: 8 },
  securityQuestions: { count: 3, answersRequired: 2, questionIds: QUESTION_IDS },
  userBypass: { allow: true, maxSeconds: 900 },
  stepUpSeconds: 300,
  mobile: { allow: true, maxDevices: 2, activationTtlSeconds: 600 },
};

/** A fixed store key: the pepper it yields is what the composition root would derive. */
export const STORE_KEY = new Uint8Array(32).fill(7);

export const PUSH: CoreSettings['push'] = {
  enabled: true,
  requestTtlSeconds: 120,
  requirePin: false,
  fraudBlock: true,
  deviceProofMaxAgeSeconds: 120,
  recheckMs: 0,
};

/** A phone's device key pair, as the web authenticator makes one (ES256). */
export async function deviceKeyPair(): Promise<{ privateKey: CryptoKey; publicKey: JsonWebKeyP256 }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const { x, y } = await exportJWK(pair.publicKey);
  if (!x || !y) throw new Error('test: exported key has no coordinates');
  return { privateKey: pair.privateKey, publicKey: { kty: 'EC', crv: 'P-256', x, y } };
}

/** A compact JWS as a phone signs it: ES256, the device id as `kid`, and the token type. */
export function signAsDevice(
  privateKey: CryptoKey,
  kid: string,
  payload: Record<string, unknown>,
  typ: string,
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', kid, typ })
    .sign(privateKey);
}

export function coreFixture(
  overrides: {
    auth?: Partial<Omit<AuthSettings, 'answersRequired'>>;
    regulation?: Partial<RegulationSettings>;
    enrollment?: Partial<Omit<EnrollmentSettings, 'totp'>>;
    push?: Partial<CoreSettings['push']>;
    /** Replaces the recording notifier (e.g. one that fails). */
    notifier?: AdminNotifier;
    /** Web Push for closed apps; none by default. */
    pushSender?: PushSender;
  } = {},
) {
  const clock = createFixedClock(NOW);
  const store = createMemoryStore();
  const directory = createMemoryDirectory([
    {
      username: 'alice',
      password: 'alice-pw',
      uniqueId: 'guid-alice',
      phones: ['+15550100001'],
      groups: ['staff'],
    },
    { username: 'bob', password: 'bob-pw', uniqueId: 'guid-bob', phones: [], groups: [] },
    { username: 'dave', password: 'dave-pw', uniqueId: 'guid-dave', phones: [], groups: [] },
  ]);
  const logged: object[] = [];
  const regulation: RegulationSettings = {
    enabled: true,
    user: { maxFailures: 3, windowSeconds: 300, banSeconds: 900 },
    address: { maxFailures: 10, windowSeconds: 300, banSeconds: 900 },
    ...overrides.regulation,
  };
  const auth = {
    requireUserMatch: 'reject' as const,
    primaryMinDurationMs: 300,
    challengeTtlSeconds: 300,
    maxAttempts: 3,
    codeWithPush: true,
    ...overrides.auth,
  };
  const enrollment = { ...ENROLLMENT, ...overrides.enrollment };
  const push = { ...PUSH, ...overrides.push };
  const fraudAlerts: FraudAlert[] = [];
  const warnings: Array<{ message: string; detail: Record<string, unknown> }> = [];
  const core = createCore(
    {
      directory,
      store,
      auditLogger: { info: (o) => logged.push(o) },
      notifier: overrides.notifier ?? {
        fraudReported: async (alert) => {
          fraudAlerts.push(alert);
        },
      },
      warn: (message, detail) => warnings.push({ message, detail }),
      ...(overrides.pushSender ? { pushSender: overrides.pushSender } : {}),
      clock,
      random: systemRandom,
      pepper: derivePepper(STORE_KEY),
    },
    { auth, totp: TOTP, regulation, enrollment, sessionMaxAgeSeconds: 43200, push },
  );
  const admin = { actor: 'cli:root', channel: 'cli' as const, clientAddress: 'local' };

  /**
   * Activates a phone for a store user the way the app does: a code issued in the portal (with a
   * fresh second factor, so it works whether or not the user already has one), redeemed with a new
   * key pair. `sign` makes the device's JWS; `answer` and `proof` build its two kinds of token.
   */
  async function activateDevice(
    username: string,
    options: { deviceName?: string; ctx?: RequestContext } = {},
  ) {
    const ctx = options.ctx ?? PORTAL_OUTSIDE;
    const { privateKey, publicKey } = await deviceKeyPair();
    const { code } = await core.enrollment.issueActivationCode(username, ctx, {
      secondFactorAt: clock.now(),
    });
    const activated: ActivatedDevice = await core.enrollment.activateDevice(
      { code, deviceName: options.deviceName ?? 'Test phone', publicKey },
      ctx,
    );
    const { deviceId } = activated;
    const device = await store.getMobileDevice(deviceId);
    if (!device) throw new Error('test: the activated device is not in the store');
    const sign = (payload: Record<string, unknown>, typ: string) =>
      signAsDevice(privateKey, deviceId, payload, typ);
    return {
      deviceId,
      device,
      privateKey,
      publicKey,
      activated,
      sign,
      /** A signed answer to a request as the app sends it (`extra` adds or overrides fields). */
      answer: (
        request: { id: string; nonce: string },
        decision: 'approve' | 'deny' | 'fraud',
        extra: Record<string, unknown> = {},
      ) => sign({ rid: request.id, nonce: request.nonce, decision, ...extra }, ANSWER_TYPE),
      /** A proof of possession for one API call, issued now unless `iat` says otherwise. */
      proof: (method: string, path: string, iat = Math.floor(clock.now() / 1000)) =>
        sign({ htm: method, htu: path, iat }, DEVICE_PROOF_TYPE),
    };
  }

  return {
    clock,
    store,
    directory,
    logged,
    audit: core.audit,
    accounts: core.accounts,
    regulator: core.regulator,
    verifyTotp: core.verifyTotp,
    authenticator: core.authenticator,
    userAdmin: core.userAdmin,
    enrollment: core.enrollment,
    hasher: core.hasher,
    auditQuery: core.auditQuery,
    sessions: core.sessions,
    push: core.push,
    pushHub: core.pushHub,
    fraudAlerts,
    warnings,
    activateDevice,
    admin,
  };
}

export type CoreFixture = ReturnType<typeof coreFixture>;
export type TestDevice = Awaited<ReturnType<CoreFixture['activateDevice']>>;
