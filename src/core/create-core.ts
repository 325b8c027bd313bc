// Wires the core's services over the ports an adapter supplies: one place, used by the composition
// root and by the core tests alike, so the tests exercise the same wiring that runs.
import { type AuditLogger, createAuditLog } from './audit/audit-log.ts';
import { type AuthSettings, createAuthenticator } from './auth/authenticator.ts';
import { createTotpVerifier, type TotpSettings } from './factors/totp.ts';
import type {
  AuditStore,
  BypassStore,
  ChallengeStore,
  Clock,
  Directory,
  FactorStore,
  Random,
  RegulationStore,
  SessionRevocationStore,
  UserStore,
} from './ports.ts';
import { createRegulator, type RegulationSettings } from './regulation/regulator.ts';
import { createSessionRevocation } from './sessions/revocation.ts';
import { createDirectoryImport } from './users/directory-import.ts';
import { createUserAdmin } from './users/user-admin.ts';

export interface CorePorts {
  directory: Directory;
  store: UserStore &
    FactorStore &
    ChallengeStore &
    RegulationStore &
    AuditStore &
    BypassStore &
    SessionRevocationStore;
  auditLogger: AuditLogger;
  clock: Clock;
  random: Random;
}

export interface CoreSettings {
  auth: AuthSettings;
  totp: TotpSettings;
  regulation: RegulationSettings;
  /** The longest a session may live: how long a revocation must be remembered. */
  sessionMaxAgeSeconds: number;
}

export function createCore(ports: CorePorts, settings: CoreSettings) {
  const { directory, store, clock, random } = ports;
  const audit = createAuditLog({ store, logger: ports.auditLogger });
  const regulator = createRegulator({ store, clock, audit, settings: settings.regulation });
  const sessions = createSessionRevocation({
    store,
    clock,
    sessionMaxAgeMs: settings.sessionMaxAgeSeconds * 1000,
  });
  const verifyTotp = createTotpVerifier({ factors: store, clock, window: settings.totp.window });
  const authenticator = createAuthenticator({
    directory,
    users: store,
    challenges: store,
    factors: store,
    bypasses: store,
    verifyTotp,
    regulator,
    audit,
    clock,
    random,
    settings: settings.auth,
  });
  const userAdmin = createUserAdmin({
    users: store,
    factors: store,
    bypasses: store,
    sessions,
    regulator,
    audit,
    clock,
    random,
    totp: settings.totp,
  });
  const importUsers = createDirectoryImport({ directory, users: store, audit, clock });
  return { audit, regulator, sessions, verifyTotp, authenticator, userAdmin, importUsers };
}

export type Core = ReturnType<typeof createCore>;
