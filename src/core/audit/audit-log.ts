// The audit log: every security event goes to the store (queryable by administrators) and to the
// JSON log (shipped to a SIEM). A store failure is not swallowed: a decision that cannot be
// audited is not taken.
import type { AuditEvent, AuditSink, AuditStore } from '../ports.ts';

export interface AuditLogger {
  info(object: object, message: string): void;
}

export function createAuditLog(deps: { store: AuditStore; logger: AuditLogger }): AuditSink {
  return {
    async record(event: AuditEvent): Promise<void> {
      deps.logger.info(
        { audit: { ...event, at: new Date(event.at).toISOString() } },
        `audit ${event.type} ${event.outcome}`,
      );
      await deps.store.appendAudit(event);
    },
  };
}
