// A user's data as a GDPR access request answers it: what we hold about them and what they did,
// assembled here so that every channel (SDK today, CLI or portal later) hands over the same thing.
// Secrets never leave: no seed, device key, push subscription, PIN hash or answer, only whether
// each exists.
import { enrollmentOverview } from '../enrollment/overview.ts';
import type { FactorSummary } from '../enrollment/types.ts';
import { MfaError } from '../errors.ts';
import type {
  AuditSink,
  AuditStore,
  Clock,
  EnrollmentWindowStore,
  FactorStore,
  MobileDeviceStore,
  SecurityAnswerStore,
  StoredAuditEvent,
  UserRecord,
  UserStore,
} from '../ports.ts';
import type { AdminContext } from './user-admin.ts';

/** At most this many audit events, newest first; `truncated` says whether older ones exist. */
export const EXPORT_AUDIT_LIMIT = 1000;

export interface UserDataExport {
  exportedAt: number;
  profile: Omit<UserRecord, 'id' | 'pinHash'> & { pinSet: boolean };
  factors: FactorSummary[];
  mobileDevices: Array<{
    id: string;
    name: string;
    createdAt: number;
    lastSeenAt: number | null;
    /** Whether the phone registered for Web Push; the subscription itself holds keys. */
    pushEnabled: boolean;
  }>;
  /** Ids of the questions they answered; answers are kept only as hashes and never exported. */
  securityQuestionIds: string[];
  enrollmentWindowUntil: number | null;
  auditEvents: { limit: number; truncated: boolean; events: StoredAuditEvent[] };
}

const newestFirst = (a: StoredAuditEvent, b: StoredAuditEvent) =>
  b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export function createUserExport(deps: {
  users: Pick<UserStore, 'findUserByName'>;
  factors: Pick<FactorStore, 'listTotpFactors'>;
  answers: Pick<SecurityAnswerStore, 'listSecurityAnswers'>;
  windows: Pick<EnrollmentWindowStore, 'findEnrollmentWindow'>;
  devices: Pick<MobileDeviceStore, 'listMobileDevices'>;
  auditStore: Pick<AuditStore, 'queryAudit'>;
  audit: AuditSink;
  clock: Clock;
}) {
  const { users, devices, auditStore, audit, clock } = deps;

  /** Events about them and events they caused (as a portal administrator, say), each once. */
  async function theirEvents(username: string): Promise<UserDataExport['auditEvents']> {
    const probe = EXPORT_AUDIT_LIMIT + 1;
    const [about, by] = await Promise.all([
      auditStore.queryAudit({ username, order: 'newest', limit: probe }),
      auditStore.queryAudit({ actor: username, order: 'newest', limit: probe }),
    ]);
    const unique = new Map([...about, ...by].map((e) => [e.id, e]));
    const events = [...unique.values()].sort(newestFirst);
    return {
      limit: EXPORT_AUDIT_LIMIT,
      truncated: events.length > EXPORT_AUDIT_LIMIT,
      events: events.slice(0, EXPORT_AUDIT_LIMIT),
    };
  }

  return {
    async export(username: string, ctx: AdminContext): Promise<UserDataExport> {
      const user = await users.findUserByName(username);
      if (!user) throw new MfaError('user.not_found', { detail: username });
      const [overview, phones, auditEvents] = await Promise.all([
        enrollmentOverview({ ...deps, clock }, user),
        devices.listMobileDevices(user.id),
        theirEvents(user.username),
      ]);
      const { id: _id, pinHash, ...profile } = user;
      const exported: UserDataExport = {
        exportedAt: clock.now(),
        profile: { ...profile, phones: [...profile.phones], pinSet: pinHash !== null },
        factors: overview.factors,
        mobileDevices: phones.map((d) => ({
          id: d.id,
          name: d.name,
          createdAt: d.createdAt,
          lastSeenAt: d.lastSeenAt,
          pushEnabled: d.pushSubscription !== null,
        })),
        securityQuestionIds: overview.securityQuestionIds,
        enrollmentWindowUntil: overview.enrollmentWindowUntil,
        auditEvents,
      };
      // Handing over someone's data is itself an administrative act worth a trace.
      await audit.record({
        at: clock.now(),
        type: 'admin.user_export',
        outcome: 'success',
        channel: ctx.channel,
        username: user.username,
        clientAddress: ctx.clientAddress,
        reason: null,
        actor: ctx.actor,
        application: null,
        details: { auditEvents: auditEvents.events.length, truncated: auditEvents.truncated },
      });
      return exported;
    },
  };
}

export type UserExport = ReturnType<typeof createUserExport>;
