// Wires the core's services over the ports an adapter supplies: one place, used by the composition
// root and by the core tests alike, so the tests exercise the same wiring that runs.
import { createServiceAccounts } from './accounts/service-accounts.ts';
import { type AuditLogger, createAuditLog } from './audit/audit-log.ts';
import { type AuthSettings, createAuthenticator } from './auth/authenticator.ts';
import { createSdkAuthentications } from './auth/sdk-authentications.ts';
import { createEnrollment } from './enrollment/enrollment.ts';
import type { EnrollmentSettings } from './enrollment/types.ts';
import { createTotpVerifier, type TotpSettings } from './factors/totp.ts';
import type {
  AdminNotifier,
  AuditQuery,
  AuditStore,
  BypassStore,
  ChallengeStore,
  Clock,
  Directory,
  EnrollmentWindowStore,
  FactorStore,
  MobileDeviceStore,
  PushRequestStore,
  PushSender,
  Random,
  RegulationStore,
  SdkAuthenticationStore,
  SecurityAnswerStore,
  ServiceAccountStore,
  SessionRevocationStore,
  StoredAuditEvent,
  UserDeletionStore,
  UserStore,
} from './ports.ts';
import { createPushApprovals, type PushSettings } from './push/push-approvals.ts';
import { createPushHub } from './push/push-hub.ts';
import { createRegulator, type RegulationSettings } from './regulation/regulator.ts';
import { createSecretHasher } from './secrets/secret-hash.ts';
import { createSessionRevocation } from './sessions/revocation.ts';
import { pseudonymKey } from './users/audit-erasure.ts';
import { createDirectoryImport } from './users/directory-import.ts';
import { createUserAdmin } from './users/user-admin.ts';

/** Everything the core stores: the SQL store and the tests' memory store both implement it. */
export type CoreStore = UserStore &
  FactorStore &
  ChallengeStore &
  RegulationStore &
  AuditStore &
  BypassStore &
  SessionRevocationStore &
  SecurityAnswerStore &
  EnrollmentWindowStore &
  MobileDeviceStore &
  PushRequestStore &
  ServiceAccountStore &
  UserDeletionStore &
  SdkAuthenticationStore;

export interface CorePorts {
  directory: Directory;
  store: CoreStore;
  auditLogger: AuditLogger;
  /** Tells administrators about fraud reports (e-mail, webhook); none configured is a no-op. */
  notifier?: AdminNotifier;
  /** Web Push for closed apps, when configured. */
  pushSender?: PushSender;
  /** Delivery problems that must not fail a sign-in (a Web Push or an e-mail that did not go out). */
  warn?: (message: string, detail: Record<string, unknown>) => void;
  clock: Clock;
  random: Random;
  /** Peppers the hashes of PINs and security answers (`derivePepper(storeKey)`), at least 16 bytes. */
  pepper: Uint8Array;
}

export interface CoreSettings {
  /** `answersRequired` comes from `enrollment.securityQuestions`. */
  auth: Omit<AuthSettings, 'answersRequired'>;
  totp: TotpSettings;
  regulation: RegulationSettings;
  /** Self-service enrollment; its TOTP settings are `totp` above. */
  enrollment: Omit<EnrollmentSettings, 'totp'>;
  /** The longest a session may live: how long a revocation must be remembered. */
  sessionMaxAgeSeconds: number;
  push: PushSettings & {
    /** How often waiters look in the store for answers given on another node. */
    recheckMs: number;
  };
}

const NO_NOTIFIER: AdminNotifier = { fraudReported: async () => {} };

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
  const hasher = createSecretHasher(ports.pepper, random);
  const pushHub = createPushHub({ store, recheckMs: settings.push.recheckMs });
  const push = createPushApprovals({
    requests: store,
    devices: store,
    users: store,
    factors: store,
    hub: pushHub,
    ...(ports.pushSender ? { sender: ports.pushSender } : {}),
    notifier: ports.notifier ?? NO_NOTIFIER,
    sessions,
    regulator,
    audit,
    hasher,
    clock,
    random,
    settings: settings.push,
    warn: ports.warn ?? (() => {}),
  });
  const authenticator = createAuthenticator({
    directory,
    users: store,
    challenges: store,
    factors: store,
    bypasses: store,
    answers: store,
    hasher,
    verifyTotp,
    regulator,
    audit,
    clock,
    random,
    settings: { ...settings.auth, answersRequired: settings.enrollment.securityQuestions.answersRequired },
    push,
  });
  const enrollment = createEnrollment({
    users: store,
    factors: store,
    answers: store,
    windows: store,
    bypasses: store,
    auditStore: store,
    devices: store,
    pinMode: settings.push.requirePin,
    verifyTotp,
    regulator,
    audit,
    hasher,
    clock,
    random,
    settings: { ...settings.enrollment, totp: settings.totp },
  });
  const userAdmin = createUserAdmin({
    users: store,
    factors: store,
    answers: store,
    windows: store,
    devices: store,
    bypasses: store,
    sessions,
    regulator,
    audit,
    clock,
    random,
    totp: settings.totp,
    pin: settings.enrollment.pin,
    hasher,
    auditStore: store,
    deletions: store,
    pseudonymKey: pseudonymKey(ports.pepper),
  });
  const importUsers = createDirectoryImport({ directory, users: store, audit, clock });
  /** The audit log as administrators and users read it (filters in `AuditQuery`). */
  const auditQuery = (query: AuditQuery): Promise<StoredAuditEvent[]> => store.queryAudit(query);
  const accounts = createServiceAccounts({ store, audit, clock, random });
  const sdkAuthentications = createSdkAuthentications({
    authenticator,
    push,
    challenges: store,
    store,
    clock,
    random,
    challengeTtlSeconds: settings.auth.challengeTtlSeconds,
  });
  return {
    accounts,
    audit,
    regulator,
    sessions,
    verifyTotp,
    hasher,
    authenticator,
    enrollment,
    userAdmin,
    importUsers,
    auditQuery,
    push,
    pushHub,
    sdkAuthentications,
  };
}

export type Core = ReturnType<typeof createCore>;
