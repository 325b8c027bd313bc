// The store's table types for Kysely: one interface per table, in the shape of migrations 0001 to 0006.
import type { ColumnType } from 'kysely';

/**
 * Milliseconds since the epoch in a `bigint` column. SQLite returns numbers and PostgreSQL returns
 * strings for bigint, so the read type is both and every row mapper coerces with Number().
 */
export type Millis = ColumnType<number | string, number, number>;
export type NullableMillis = ColumnType<number | string | null, number | null, number | null>;

export interface UsersTable {
  id: string;
  /** Canonical: trimmed, lower case. */
  username: string;
  unique_id: string | null;
  display_name: string | null;
  email: string | null;
  /** JSON array of strings. */
  phones: string;
  default_method: string | null;
  language: string | null;
  status: string;
  pin_hash: string | null;
  /** 0 or 1. */
  from_directory: number;
  created_at: Millis;
  updated_at: Millis;
}

export interface FactorsTable {
  id: string;
  user_id: string;
  /** 'totp' (later 'device'). */
  kind: string;
  label: string;
  /** Sealed by the secret box, bound to `factors:<id>:<user_id>`; never the plain seed. */
  secret_enc: string;
  /** JSON: { algorithm, digits, period }. */
  params: string;
  last_time_step: NullableMillis;
  created_at: Millis;
  last_used_at: NullableMillis;
}

export interface BypassesTable {
  id: string;
  user_id: string;
  created_by: string;
  reason: string | null;
  created_at: Millis;
  expires_at: Millis;
  used_at: NullableMillis;
}

export interface SecurityAnswersTable {
  id: string;
  user_id: string;
  /** One answer per question and user (unique with `user_id`). */
  question_id: string;
  /** Peppered argon2id in PHC form; never the answer. */
  answer_hash: string;
  created_at: Millis;
}

export interface EnrollmentWindowsTable {
  id: string;
  user_id: string;
  /** The administrator who opened it. */
  created_by: string;
  created_at: Millis;
  expires_at: Millis;
}

export interface RegulationCountersTable {
  subject: string;
  failures: number;
  window_start: Millis;
  locked_until: NullableMillis;
  updated_at: Millis;
}

export interface ChallengesTable {
  id: string;
  user_id: string | null;
  username: string;
  channel: string;
  client_address: string;
  method: string;
  attempts: number;
  max_attempts: number;
  created_at: Millis;
  expires_at: Millis;
}

export interface AuditEventsTable {
  /** Time-ordered (UUIDv7 layout), so it breaks ties between events of the same millisecond. */
  id: string;
  at: Millis;
  type: string;
  outcome: string;
  channel: string;
  username: string | null;
  client_address: string | null;
  reason: string | null;
  actor: string | null;
  application: string | null;
  /** JSON object or NULL. */
  details: string | null;
}

export interface SessionRevocationsTable {
  /** `session:<id>` or `user:<canonical username>`. */
  subject: string;
  revoked_at: Millis;
  /** When the longest session this could affect has ended anyway; the row can go then. */
  expires_at: Millis;
}

export interface ActivationCodesTable {
  /** SHA-256 of the code; the code itself is shown once and never stored. */
  code_hash: string;
  user_id: string;
  created_by: string;
  created_at: Millis;
  expires_at: Millis;
  used_at: NullableMillis;
}

export interface MobileDevicesTable {
  id: string;
  user_id: string;
  /** The device's offline TOTP seed (`factors.id`); deleting that factor deletes the device. */
  factor_id: string;
  name: string;
  /** Sealed JWK, bound to `mobile_devices:<id>:<user_id>`. */
  public_key_enc: string;
  /** Sealed Web Push subscription JSON, or NULL. */
  push_subscription_enc: string | null;
  created_at: Millis;
  last_seen_at: NullableMillis;
}

export interface PushRequestsTable {
  id: string;
  user_id: string;
  username: string;
  challenge_id: string | null;
  channel: string;
  application: string | null;
  client_address: string;
  /** 0 or 1. */
  number_matching: number;
  number: number;
  /** JSON [n, n]. */
  decoys: string;
  nonce: string;
  /** 0 or 1. */
  pin_required: number;
  state: string;
  reason: string | null;
  device_id: string | null;
  created_at: Millis;
  expires_at: Millis;
  answered_at: NullableMillis;
}

export interface ServiceAccountsTable {
  id: string;
  name: string;
  token_hash: string;
  /** JSON list of scopes. */
  scopes: string;
  /** JSON list of IPs and CIDRs. */
  networks: string;
  cert_fingerprint: string | null;
  cert_subject: string | null;
  created_at: Millis;
  created_by: string;
  revoked_at: NullableMillis;
}

export interface SdkAuthenticationsTable {
  id: string;
  account_id: string;
  user_id: string | null;
  username: string;
  method: string | null;
  challenge_id: string | null;
  push_request_id: string | null;
  status: string;
  reason: string | null;
  created_at: Millis;
  expires_at: Millis;
  keep_until: Millis;
  finished_at: NullableMillis;
}

export interface Database {
  users: UsersTable;
  factors: FactorsTable;
  bypasses: BypassesTable;
  security_answers: SecurityAnswersTable;
  regulation_counters: RegulationCountersTable;
  challenges: ChallengesTable;
  audit_events: AuditEventsTable;
  session_revocations: SessionRevocationsTable;
  enrollment_windows: EnrollmentWindowsTable;
  activation_codes: ActivationCodesTable;
  mobile_devices: MobileDevicesTable;
  push_requests: PushRequestsTable;
  service_accounts: ServiceAccountsTable;
  sdk_authentications: SdkAuthenticationsTable;
}
