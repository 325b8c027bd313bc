// The audit log table: append-only inserts with time-ordered ids, queried by user, type (exact or a
// family such as `auth.`), outcome, actor and time, oldest or newest first.
import { type Kysely, type Selectable, sql } from 'kysely';
import {
  AUDIT_OUTCOMES,
  type AuditEvent,
  type AuditStore,
  CHANNELS,
  type Random,
  type StoredAuditEvent,
} from '../core/ports.ts';
import { timeOrderedId } from '../core/random.ts';
import { canonicalUsername, oneOf, parseJsonObject, toMillis } from './rows.ts';
import type { AuditEventsTable, Database } from './schema.ts';

export const DEFAULT_AUDIT_LIMIT = 1000;

/**
 * Types that start with `prefix` (a family such as `auth.`): compared with substr, which means the
 * same in SQLite and PostgreSQL, needs no LIKE escaping, and does not depend on a collation's order.
 */
const typeStartsWith = (prefix: string) =>
  sql<boolean>`substr(${sql.ref('type')}, 1, ${[...prefix].length}) = ${prefix}`;

export function toEvent(row: Selectable<AuditEventsTable>): StoredAuditEvent {
  return {
    id: row.id,
    at: toMillis(row.at),
    type: row.type,
    outcome: oneOf(AUDIT_OUTCOMES, row.outcome, 'audit_events.outcome'),
    channel: oneOf(CHANNELS, row.channel, 'audit_events.channel'),
    username: row.username,
    clientAddress: row.client_address,
    reason: row.reason,
    actor: row.actor,
    application: row.application,
    details: parseJsonObject(row.details, 'audit_events.details'),
  };
}

/** An event's columns (all but the id), as appended and as rewritten by an erasure. */
export function eventColumns(event: AuditEvent) {
  return {
    at: event.at,
    type: event.type,
    outcome: event.outcome,
    channel: event.channel,
    // Stored canonical so that a query finds "Alice" and "alice " as the same user.
    username: event.username === null ? null : canonicalUsername(event.username),
    client_address: event.clientAddress,
    reason: event.reason,
    actor: event.actor,
    application: event.application,
    details: event.details === null ? null : JSON.stringify(event.details),
  };
}

export function createAuditRepo(db: Kysely<Database>, random: Random): AuditStore {
  return {
    async appendAudit(event) {
      await db
        .insertInto('audit_events')
        .values({ id: timeOrderedId(event.at, random), ...eventColumns(event) })
        .execute();
    },

    async queryAudit(query) {
      const direction = query.order === 'newest' ? 'desc' : 'asc';
      let select = db
        .selectFrom('audit_events')
        .selectAll()
        .orderBy('at', direction)
        .orderBy('id', direction);
      if (query.username !== undefined) {
        select = select.where('username', '=', canonicalUsername(query.username));
      }
      if (query.type?.endsWith('.')) select = select.where(typeStartsWith(query.type));
      else if (query.type !== undefined) select = select.where('type', '=', query.type);
      if (query.outcome !== undefined) select = select.where('outcome', '=', query.outcome);
      if (query.actor !== undefined) select = select.where('actor', '=', query.actor);
      if (query.since !== undefined) select = select.where('at', '>=', query.since);
      if (query.until !== undefined) select = select.where('at', '<=', query.until);
      const rows = await select.limit(query.limit ?? DEFAULT_AUDIT_LIMIT).execute();
      return rows.map(toEvent);
    },
  };
}
