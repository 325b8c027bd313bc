// Builds the core's services over in-memory ports and a fixed clock, with named personas.
import type { AuthSettings } from '../../src/core/auth/authenticator.ts';
import { createFixedClock } from '../../src/core/clock.ts';
import { createCore } from '../../src/core/create-core.ts';
import type { EnrollmentSettings } from '../../src/core/enrollment/types.ts';
import type { TotpSettings } from '../../src/core/factors/totp.ts';
import type { RequestContext } from '../../src/core/ports.ts';
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
};

/** A fixed store key: the pepper it yields is what the composition root would derive. */
export const STORE_KEY = new Uint8Array(32).fill(7);

export function coreFixture(
  overrides: {
    auth?: Partial<Omit<AuthSettings, 'answersRequired'>>;
    regulation?: Partial<RegulationSettings>;
    enrollment?: Partial<Omit<EnrollmentSettings, 'totp'>>;
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
    ...overrides.auth,
  };
  const enrollment = { ...ENROLLMENT, ...overrides.enrollment };
  const core = createCore(
    {
      directory,
      store,
      auditLogger: { info: (o) => logged.push(o) },
      clock,
      random: systemRandom,
      pepper: derivePepper(STORE_KEY),
    },
    { auth, totp: TOTP, regulation, enrollment, sessionMaxAgeSeconds: 43200 },
  );
  const admin = { actor: 'cli:root', channel: 'cli' as const, clientAddress: 'local' };
  return {
    clock,
    store,
    directory,
    logged,
    regulator: core.regulator,
    verifyTotp: core.verifyTotp,
    authenticator: core.authenticator,
    userAdmin: core.userAdmin,
    enrollment: core.enrollment,
    hasher: core.hasher,
    auditQuery: core.auditQuery,
    sessions: core.sessions,
    admin,
  };
}
