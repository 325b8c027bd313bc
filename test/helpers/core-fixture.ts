// Builds the core's services over in-memory ports and a fixed clock, with named personas.
import type { AuthSettings } from '../../src/core/auth/authenticator.ts';
import { createFixedClock } from '../../src/core/clock.ts';
import { createCore } from '../../src/core/create-core.ts';
import type { TotpSettings } from '../../src/core/factors/totp.ts';
import type { RequestContext } from '../../src/core/ports.ts';
import { systemRandom } from '../../src/core/random.ts';
import type { RegulationSettings } from '../../src/core/regulation/regulator.ts';
import { createMemoryDirectory, createMemoryStore } from './memory-ports.ts';

/** 2026-11-23T12:00:00Z, on a 30-second step boundary. */
export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

export const WEB: RequestContext = { channel: 'web', clientAddress: '192.0.2.10', application: 'intranet' };
export const ATTACKER: RequestContext = {
  channel: 'web',
  clientAddress: '203.0.113.66',
  application: 'intranet',
};

export const TOTP: TotpSettings = { issuer: 'test', algorithm: 'sha1', digits: 6, period: 30, window: 1 };

export function coreFixture(
  overrides: { auth?: Partial<AuthSettings>; regulation?: Partial<RegulationSettings> } = {},
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
  const auth: AuthSettings = {
    requireUserMatch: 'reject',
    primaryMinDurationMs: 300,
    challengeTtlSeconds: 300,
    maxAttempts: 3,
    ...overrides.auth,
  };
  const { regulator, verifyTotp, authenticator, userAdmin, sessions } = createCore(
    { directory, store, auditLogger: { info: (o) => logged.push(o) }, clock, random: systemRandom },
    { auth, totp: TOTP, regulation, sessionMaxAgeSeconds: 43200 },
  );
  const admin = { actor: 'cli:root', channel: 'cli' as const, clientAddress: 'local' };
  return {
    clock,
    store,
    directory,
    logged,
    regulator,
    verifyTotp,
    authenticator,
    userAdmin,
    sessions,
    admin,
  };
}
