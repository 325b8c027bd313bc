// The narrow interfaces the core needs from the outside world. Each consumer takes only the
// ports it uses; adapters (store, directory, providers) implement them.

/** Milliseconds since the epoch, injected so that every time rule is testable with a fixed instant. */
export interface Clock {
  now(): number;
  /** Waits; a fixed clock in tests advances instead of sleeping. */
  sleep(ms: number): Promise<void>;
}

export interface Random {
  bytes(length: number): Uint8Array;
  /** An integer in [0, max). */
  int(max: number): number;
}

/** Where a request came from; every audit event and every regulation key carries it. */
export const CHANNELS = ['web', 'radius', 'sdk', 'portal', 'cli', 'mobile'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface RequestContext {
  channel: Channel;
  /** The client address as the adapter established it (socket, or trusted-proxy chain). */
  clientAddress: string;
  /** The application or RADIUS client name, for the audit log. */
  application?: string;
  /**
   * RADIUS: the client (NAS) that relayed the request. `clientAddress` is the user's own address
   * when the NAS sends it (Calling-Station-Id), else the NAS's.
   */
  nas?: { client: string; address: string };
}

// ---------------------------------------------------------------- directory

/** A user as the directory (AD/LDAP or the users file) describes them. */
export interface DirectoryUser {
  username: string;
  /** Stable identity across renames: objectGUID, entryUUID, or the users file's id. */
  uniqueId: string;
  /** LDAP distinguished name, taken from the directory, never built from input. */
  dn?: string;
  displayName?: string;
  email?: string;
  phones: string[];
  groups: string[];
}

export interface DirectoryUserQuery {
  baseDn?: string;
  filter?: string;
  /** Only members of this group (name or DN). */
  group?: string;
}

export interface Directory {
  /**
   * Checks a password. Throws `auth.invalid_credentials` for an unknown user and a wrong password
   * alike, `directory.unavailable` when no server answers. Never binds with an empty password.
   */
  authenticate(username: string, password: string): Promise<DirectoryUser>;
  findUser(username: string): Promise<DirectoryUser | undefined>;
  listUsers(query?: DirectoryUserQuery): Promise<DirectoryUser[]>;
  /** A cheap reachability check for health endpoints. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- users

export const USER_STATUSES = ['enabled', 'disabled', 'blocked'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

export const METHODS = ['totp', 'push', 'sms', 'voice'] as const;
export type Method = (typeof METHODS)[number];

export interface UserRecord {
  id: string;
  /** Canonical: lower case, trimmed. */
  username: string;
  uniqueId: string | null;
  displayName: string | null;
  email: string | null;
  phones: string[];
  defaultMethod: Method | null;
  language: string | null;
  status: UserStatus;
  pinHash: string | null;
  /** True when the user came from a directory import and is still there. */
  fromDirectory: boolean;
  createdAt: number;
  updatedAt: number;
}

export type NewUser = Omit<UserRecord, 'id' | 'createdAt' | 'updatedAt'>;
export type UserPatch = Partial<Omit<UserRecord, 'id' | 'createdAt' | 'updatedAt'>>;

export interface UserFilter {
  status?: UserStatus;
  /** Substring of the username, display name or e-mail. */
  search?: string;
  limit?: number;
}

export interface UserStore {
  findUserByName(username: string): Promise<UserRecord | undefined>;
  findUserByUniqueId(uniqueId: string): Promise<UserRecord | undefined>;
  getUser(id: string): Promise<UserRecord | undefined>;
  createUser(user: NewUser, at: number): Promise<UserRecord>;
  updateUser(id: string, patch: UserPatch, at: number): Promise<UserRecord>;
  listUsers(filter?: UserFilter): Promise<UserRecord[]>;
}

// ---------------------------------------------------------------- factors

export const TOTP_ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;
export type TotpAlgorithm = (typeof TOTP_ALGORITHMS)[number];

export interface TotpParams {
  algorithm: TotpAlgorithm;
  digits: 6 | 7 | 8;
  period: number;
}

export interface TotpFactor extends TotpParams {
  id: string;
  userId: string;
  label: string;
  /** Decrypted seed bytes; the store keeps them encrypted and bound to the row. */
  secret: Uint8Array;
  lastTimeStep: number | null;
  createdAt: number;
}

export interface FactorStore {
  listTotpFactors(userId: string): Promise<TotpFactor[]>;
  addTotpFactor(
    userId: string,
    label: string,
    secret: Uint8Array,
    params: TotpParams,
    at: number,
  ): Promise<TotpFactor>;
  /** Removes every factor of a user (admin reset); returns how many were removed. */
  removeFactors(userId: string): Promise<number>;
  /** Removes one factor of this user; false when the user has no factor with that id. */
  removeFactor(userId: string, factorId: string): Promise<boolean>;
  /**
   * The TOTP replay guard: records `timeStep` as used only if it is later than the last accepted
   * one, in a single conditional update. Returns false when the code (or a later one) was already used.
   */
  acceptTimeStep(factorId: string, timeStep: number, at: number): Promise<boolean>;
}

// ---------------------------------------------------------------- challenges

/** A second-factor step that is waiting for the user: bound to user and channel, short lived. */
export interface Challenge {
  id: string;
  userId: string | null;
  username: string;
  channel: Channel;
  clientAddress: string;
  method: Method;
  attempts: number;
  maxAttempts: number;
  createdAt: number;
  expiresAt: number;
}

export type NewChallenge = Omit<Challenge, 'attempts'>;

export interface ChallengeStore {
  createChallenge(challenge: NewChallenge): Promise<void>;
  getChallenge(id: string): Promise<Challenge | undefined>;
  /** Atomically counts one attempt if below the cap; returns the count after it, or undefined if none left. */
  countChallengeAttempt(id: string): Promise<number | undefined>;
  /** Deletes the challenge; returns false if it was already consumed (so it is single use). */
  consumeChallenge(id: string): Promise<boolean>;
  deleteExpiredChallenges(before: number): Promise<number>;
}

// ---------------------------------------------------------------- regulation

export interface FailureCounter {
  failures: number;
  windowStart: number;
  lockedUntil: number | null;
}

export interface RegulationStore {
  getCounter(subject: string): Promise<FailureCounter | undefined>;
  /**
   * Atomically adds one failure to `subject`: a window older than `windowStart` is restarted. When the
   * count reaches `maxFailures`, `lockedUntil` is set. Returns the counter after the update.
   */
  addFailure(
    subject: string,
    at: number,
    windowMs: number,
    maxFailures: number,
    banMs: number,
  ): Promise<FailureCounter>;
  clearCounter(subject: string): Promise<boolean>;
  listLocked(at: number): Promise<Array<{ subject: string } & FailureCounter>>;
}

// ---------------------------------------------------------------- audit

export const AUDIT_OUTCOMES = ['success', 'failure', 'info'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditEvent {
  at: number;
  /** e.g. `auth.primary`, `auth.second_factor`, `regulation.lockout`, `admin.unblock`, `directory.import`. */
  type: string;
  outcome: AuditOutcome;
  channel: Channel;
  username: string | null;
  clientAddress: string | null;
  /** Machine-readable why: an error code or a short token. */
  reason: string | null;
  /** Who acted, for admin actions (administrator or service account). */
  actor: string | null;
  application: string | null;
  details: Record<string, unknown> | null;
}

export interface StoredAuditEvent extends AuditEvent {
  id: string;
}

export interface AuditQuery {
  username?: string;
  /** Exact type, or a prefix ending in `.` (`auth.`) for a family of types. */
  type?: string;
  outcome?: AuditOutcome;
  actor?: string;
  since?: number;
  until?: number;
  limit?: number;
  /** Oldest first (the default) or newest first; `limit` keeps the first events in this order. */
  order?: 'oldest' | 'newest';
}

export interface AuditSink {
  record(event: AuditEvent): Promise<void>;
}

export interface AuditStore {
  appendAudit(event: AuditEvent): Promise<void>;
  queryAudit(query: AuditQuery): Promise<StoredAuditEvent[]>;
}

// ---------------------------------------------------------------- one-time bypass

/** Lets a user through the second factor once, within a time limit (administrator or user issued). */
export interface Bypass {
  id: string;
  userId: string;
  createdBy: string;
  reason: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface BypassStore {
  createBypass(bypass: Omit<Bypass, 'usedAt'>): Promise<void>;
  /** Marks the user's oldest live bypass used, in one conditional statement; undefined when none is left. */
  consumeBypass(userId: string, at: number): Promise<Bypass | undefined>;
  deleteExpiredBypasses(before: number): Promise<number>;
}

// ---------------------------------------------------------------- session revocation

/**
 * Sessions are self-contained cookies; revoking one (logout) or every session of a user (disable,
 * fraud) writes a denylist entry that lives as long as the longest session could.
 */
export interface SessionRevocationStore {
  revokeSession(sessionId: string, until: number): Promise<void>;
  /** Every session of the user issued at or before `at` is revoked. */
  revokeUserSessions(username: string, at: number, until: number): Promise<void>;
  /** The revocations that apply: whether the id is listed, and the user's cut-off time if any. */
  findRevocations(
    sessionId: string,
    username: string,
  ): Promise<{ session: boolean; userBefore: number | null }>;
  deleteExpiredRevocations(before: number): Promise<number>;
}

// ---------------------------------------------------------------- security questions

/** One answer of a user, hashed (argon2id with the pepper); the question is the administrator's id. */
export interface SecurityAnswer {
  questionId: string;
  answerHash: string;
}

export interface SecurityAnswerStore {
  listSecurityAnswers(userId: string): Promise<SecurityAnswer[]>;
  /** Replaces every answer of the user in one transaction. */
  replaceSecurityAnswers(userId: string, answers: SecurityAnswer[], at: number): Promise<void>;
}

// ---------------------------------------------------------------- enrollment windows

/** Issued by an administrator: until `expiresAt` the user may enrol or replace a factor with the password alone. */
export interface EnrollmentWindow {
  id: string;
  userId: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
}

export interface EnrollmentWindowStore {
  createEnrollmentWindow(window: EnrollmentWindow): Promise<void>;
  /** A window of the user that is open at `at`, if any. */
  findEnrollmentWindow(userId: string, at: number): Promise<EnrollmentWindow | undefined>;
  deleteExpiredEnrollmentWindows(before: number): Promise<number>;
}

// ---------------------------------------------------------------- mobile devices (web authenticator)

/**
 * A phone running the web authenticator: its public key (ECDSA P-256, JWK) verifies the answers it
 * signs. Each device also holds an offline OATH seed, which is an ordinary TOTP factor (`factorId`);
 * removing that factor removes the device.
 */
export interface MobileDevice {
  id: string;
  userId: string;
  factorId: string;
  name: string;
  publicKey: JsonWebKeyP256;
  /** Web Push subscription (RFC 8030 endpoint and RFC 8291 keys), when the app registered one. */
  pushSubscription: PushSubscriptionKeys | null;
  createdAt: number;
  lastSeenAt: number | null;
}

export interface JsonWebKeyP256 {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

export interface PushSubscriptionKeys {
  endpoint: string;
  /** base64url P-256 public key of the browser (uncompressed point). */
  p256dh: string;
  /** base64url 16-byte authentication secret. */
  auth: string;
}

/** A single-use code that lets one phone register a device for one user; only its hash is stored. */
export interface ActivationCode {
  codeHash: string;
  userId: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
}

export interface MobileDeviceStore {
  createActivationCode(code: ActivationCode): Promise<void>;
  /** Marks the code used if it exists, is unused and unexpired, in one conditional statement. */
  consumeActivationCode(codeHash: string, at: number): Promise<ActivationCode | undefined>;
  deleteExpiredActivationCodes(before: number): Promise<number>;
  /** Adds the device and its offline TOTP factor in one transaction. */
  addMobileDevice(
    device: Omit<MobileDevice, 'id' | 'factorId' | 'pushSubscription' | 'lastSeenAt'>,
    totp: { label: string; secret: Uint8Array; params: TotpParams },
  ): Promise<MobileDevice>;
  getMobileDevice(id: string): Promise<MobileDevice | undefined>;
  listMobileDevices(userId: string): Promise<MobileDevice[]>;
  setPushSubscription(deviceId: string, subscription: PushSubscriptionKeys | null): Promise<void>;
  touchMobileDevice(deviceId: string, at: number): Promise<void>;
}

// ---------------------------------------------------------------- push requests

export const PUSH_STATES = ['pending', 'approved', 'denied', 'fraud', 'expired', 'cancelled'] as const;
export type PushState = (typeof PUSH_STATES)[number];

/**
 * A sign-in waiting for the user's phone. It lives in the store so that any node can answer it; the
 * state leaves `pending` exactly once (a conditional update), which makes every answer single use.
 */
export interface PushRequest {
  id: string;
  userId: string;
  username: string;
  /** The sign-in challenge this approval completed (set once, by `claimPushRequest`). */
  challengeId: string | null;
  channel: Channel;
  application: string | null;
  clientAddress: string;
  /**
   * Whether the user must pick `number` in the app. Out of band (Basic, RADIUS) there is no page to
   * show it on, so the app asks only to approve or deny.
   */
  numberMatching: boolean;
  /** The 2-digit number shown on the sign-in page and matched in the app. */
  number: number;
  /** The two wrong numbers the app offers beside the right one. */
  decoys: [number, number];
  /** Random; the device signs over it, so an answer cannot be made before the request exists. */
  nonce: string;
  pinRequired: boolean;
  state: PushState;
  /** Why it ended as it did: `wrong_number`, `wrong_pin`, `user`, a device id ... */
  reason: string | null;
  deviceId: string | null;
  createdAt: number;
  expiresAt: number;
  answeredAt: number | null;
}

export interface PushRequestStore {
  /** False when the user already has a pending request (one per user, on every node). */
  createPushRequest(
    request: Omit<PushRequest, 'state' | 'reason' | 'deviceId' | 'answeredAt'>,
  ): Promise<boolean>;
  getPushRequest(id: string): Promise<PushRequest | undefined>;
  /** The user's pending, unexpired requests, newest first. */
  listPendingPushRequests(userId: string, at: number): Promise<PushRequest[]>;
  /**
   * Moves a pending, unexpired request to `state` in one conditional update; false when it was not
   * pending any more (answered, cancelled, expired): the second answer of a race loses.
   */
  settlePushRequest(
    id: string,
    change: {
      state: Exclude<PushState, 'pending'>;
      reason: string | null;
      deviceId: string | null;
      at: number;
    },
  ): Promise<boolean>;
  /**
   * Records that the approved request completed this challenge, if no challenge has yet: one
   * approval completes one sign-in, even when two sign-ins from one place share the request.
   */
  claimPushRequest(id: string, challengeId: string): Promise<boolean>;
  /** Marks the user's pending requests whose time is up as `expired`, so a new one may be created. */
  expireStalePushRequests(userId: string, at: number): Promise<number>;
  /** The states of these requests, for waiters on other nodes (ids not found are left out). */
  pushRequestStates(ids: string[]): Promise<Map<string, PushState>>;
  /** Deletes requests that ended (or expired) before `before`. */
  deleteOldPushRequests(before: number): Promise<number>;
}

// ---------------------------------------------------------------- notifications

/** What administrators are told when a user reports a push as fraud. */
export interface FraudAlert {
  at: number;
  username: string;
  displayName: string | null;
  application: string | null;
  clientAddress: string | null;
  channel: Channel;
  requestId: string;
  /** Whether the user was blocked (`mobile.fraud.block`). */
  blocked: boolean;
}

/** Tells administrators about security events (e-mail, webhook); failures are the notifier's to log. */
export interface AdminNotifier {
  fraudReported(alert: FraudAlert): Promise<void>;
}

/** Wakes a closed web authenticator (Web Push). `gone` means the subscription no longer exists. */
export interface PushSender {
  send(subscription: PushSubscriptionKeys, message: PushMessage): Promise<'sent' | 'gone'>;
}

export interface PushMessage {
  title: string;
  body: string;
  requestId: string;
  /** Seconds the push service may keep it: the request's remaining lifetime. */
  ttlSeconds: number;
}

// ---------------------------------------------------------------- SDK service accounts

export const SDK_SCOPES = ['users:read', 'users:write', 'auth', 'admin', 'edge'] as const;
export type SdkScope = (typeof SDK_SCOPES)[number];

/**
 * A caller of the SDK (an integration, or an edge node). It proves itself with a token (only its
 * hash is stored), or with a client certificate matched by fingerprint or subject.
 */
export interface ServiceAccount {
  id: string;
  name: string;
  scopes: SdkScope[];
  /** Source networks it may call from (IPs, CIDRs); empty: anywhere. */
  networks: string[];
  /** SHA-256 of the client certificate (DER), lower-case hex without colons. */
  certFingerprint: string | null;
  /** The client certificate's subject, as `CN=...,O=...`. */
  certSubject: string | null;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

export interface ServiceAccountStore {
  /** False when the name is taken. */
  insertServiceAccount(account: ServiceAccount, tokenHash: string): Promise<boolean>;
  findServiceAccountByName(name: string): Promise<(ServiceAccount & { tokenHash: string }) | undefined>;
  findServiceAccountByTokenHash(tokenHash: string): Promise<ServiceAccount | undefined>;
  findServiceAccountByCertificate(fingerprint: string, subject: string): Promise<ServiceAccount | undefined>;
  listServiceAccounts(): Promise<ServiceAccount[]>;
  /** False when there was no such active account. */
  revokeServiceAccount(name: string, at: number): Promise<boolean>;
}

// ---------------------------------------------------------------- deleting a user (GDPR)

/** How many rows deleting a user removed, per kind: the audit event's details. */
export interface UserDeletionCounts {
  factors: number;
  mobileDevices: number;
  securityAnswers: number;
  bypasses: number;
  enrollmentWindows: number;
  activationCodes: number;
  pushRequests: number;
  challenges: number;
  regulationCounters: number;
  sdkAuthentications: number;
  /** Audit events rewritten by an erasure (0 for a plain deletion, which keeps them as they are). */
  auditEventsErased: number;
}

/** An erasure's rewrite of the audit log, applied in the deletion's transaction. */
export interface AuditErasure {
  /** Events whose `username` or `actor` is this canonical name are rewritten; others are not touched. */
  username: string;
  rewrite(event: StoredAuditEvent): AuditEvent;
}

export interface UserDeletionStore {
  /**
   * Deletes the user and every row about them in one transaction: factors (and the devices on
   * them), security answers, bypasses, enrollment windows, activation codes, push requests,
   * challenges and SDK authentications (by user id or by name), and the regulation counters named
   * in `regulationSubjects`;
   * with `erase`, rewrites their audit events too. Undefined, with nothing changed, when the user
   * (id and name together) is no longer there.
   */
  deleteUser(
    user: { id: string; username: string },
    options: { regulationSubjects: string[]; erase?: AuditErasure },
  ): Promise<UserDeletionCounts | undefined>;
}

// ---------------------------------------------------------------- SDK authentications

/**
 * Where an authentication started through the SDK stands. `pending` (a push the phone has not
 * answered) and `code_required` are open; `approved`, `denied`, `expired` and `failed` are final
 * and never change once recorded.
 */
export const SDK_AUTH_STATUSES = [
  'pending',
  'code_required',
  'approved',
  'denied',
  'expired',
  'failed',
] as const;
export type SdkAuthStatus = (typeof SDK_AUTH_STATUSES)[number];
export type SdkAuthFinalStatus = Exclude<SdkAuthStatus, 'pending' | 'code_required'>;

export const SDK_AUTH_METHODS = ['push', 'code'] as const;
export type SdkAuthMethod = (typeof SDK_AUTH_METHODS)[number];

/**
 * An authentication a service account started: the challenge (and push) behind it, and its result.
 * It lives in the store so that any node answers a poll, and so that the result outlives the
 * challenge, which completing it consumes.
 */
export interface SdkAuthentication {
  /** Random (144 bits): the handle the integration reads the result with. */
  id: string;
  /** The service account that started it; to every other account it does not exist. */
  accountId: string;
  /** Null for a user unknown to the store whom `requireUserMatch: primary-only` let through. */
  userId: string | null;
  username: string;
  /** How the second factor is asked for; null when none was (a one-time bypass). */
  method: SdkAuthMethod | null;
  /** The challenge that completes it; null when it was decided at once. */
  challengeId: string | null;
  pushRequestId: string | null;
  status: SdkAuthStatus;
  /** Why it ended as it did: `push`, `code`, `bypass`, `denied`, `fraud`, an error code ... */
  reason: string | null;
  createdAt: number;
  /** The challenge's expiry: still open then, it has expired. */
  expiresAt: number;
  /** The result is readable until then (after `expiresAt`, so that a poller still learns it). */
  keepUntil: number;
  finishedAt: number | null;
}

export interface SdkAuthenticationStore {
  createSdkAuthentication(authentication: SdkAuthentication): Promise<void>;
  getSdkAuthentication(id: string): Promise<SdkAuthentication | undefined>;
  /**
   * Records the result in one conditional update, only while the authentication is open; false when
   * a result was recorded first (the first one stands).
   */
  finishSdkAuthentication(
    id: string,
    result: { status: SdkAuthFinalStatus; reason: string | null; at: number },
  ): Promise<boolean>;
  /** Deletes the authentications whose result need not be kept at `before` any more. */
  deleteExpiredSdkAuthentications(before: number): Promise<number>;
}
