// The vocabulary of self-service enrollment: its settings (given by the composition root, not read
// from the config here), its ports, what a caller's session proves, and what a user has enrolled.
import type { PinRules } from '../factors/pin.ts';
import type { TotpCheck, TotpSettings } from '../factors/totp.ts';
import type {
  AuditSink,
  AuditStore,
  BypassStore,
  Clock,
  EnrollmentWindowStore,
  FactorStore,
  Method,
  MobileDeviceStore,
  Random,
  SecurityAnswerStore,
  UserRecord,
  UserStore,
} from '../ports.ts';
import type { Regulator } from '../regulation/regulator.ts';
import type { SecretHasher } from '../secrets/secret-hash.ts';

export const FIRST_ENROLLMENT_POLICIES = ['password', 'trusted-networks', 'window'] as const;
export type FirstEnrollmentPolicy = (typeof FIRST_ENROLLMENT_POLICIES)[number];

export interface EnrollmentSettings {
  totp: TotpSettings;
  /** Who may enrol a first factor: anyone with the password, only from trusted networks, or only in a window. */
  firstEnrollment: FirstEnrollmentPolicy;
  /** IPs and CIDRs for `trusted-networks`. */
  trustedNetworks: readonly string[];
  /** Methods users may choose as their default. */
  methods: readonly Method[];
  pin: PinRules;
  securityQuestions: {
    /** How many questions a user answers when enrolling. */
    count: number;
    /** How many must be answered at sign-in; 0 turns security questions off. */
    answersRequired: number;
    questionIds: readonly string[];
  };
  userBypass: { allow: boolean; maxSeconds: number };
  /** How recent the second factor must be for a change to a user who already has one. */
  stepUpSeconds: number;
  /** Activating the web authenticator (`portal.mobileApp`). */
  mobile: { allow: boolean; maxDevices: number; activationTtlSeconds: number };
}

/** What the caller's session says about the second factor: when it was last proven (sign-in or step-up). */
export interface ChangeProof {
  secondFactorAt: number | null;
  stepUpAt?: number;
}

/** Whether a change may go ahead now, and if not, what would let it. */
export type ChangeStatus = 'allowed' | 'step_up_required' | 'not_allowed';

export interface FactorSummary {
  id: string;
  label: string;
  /** `mobile`: the offline seed of a web authenticator device, which also answers pushes. */
  kind: 'totp' | 'mobile';
  createdAt: number;
}

export interface EnrollmentOverview {
  user: UserRecord;
  factors: FactorSummary[];
  securityQuestionIds: string[];
  hasPin: boolean;
  /** When the administrator's open enrollment window ends, or null when none is open. */
  enrollmentWindowUntil: number | null;
}

export interface EnrollmentDeps {
  users: UserStore;
  factors: FactorStore;
  answers: SecurityAnswerStore;
  windows: EnrollmentWindowStore;
  bypasses: Pick<BypassStore, 'createBypass'>;
  devices: MobileDeviceStore;
  /** PIN mode for push approvals (the app is told at activation). */
  pinMode: boolean;
  auditStore: Pick<AuditStore, 'queryAudit'>;
  /** The core's TOTP verifier, with the replay guard. */
  verifyTotp: (userId: string, code: string) => Promise<TotpCheck>;
  regulator: Regulator;
  audit: AuditSink;
  hasher: SecretHasher;
  clock: Clock;
  random: Random;
  settings: EnrollmentSettings;
}
