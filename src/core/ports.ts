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
