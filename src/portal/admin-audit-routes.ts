// The audit log for administrators with the `audit` permission: a filtered page at
// /enroll/admin/audit and the same filters as a CSV download (RFC 4180, with cells that a
// spreadsheet would run as a formula defused).
import type { FastifyInstance } from 'fastify';
import { canonicalUsername } from '../core/auth/authenticator.ts';
import { isMfaError, MfaError } from '../core/errors.ts';
import { AUDIT_OUTCOMES, type AuditQuery, type StoredAuditEvent } from '../core/ports.ts';
import { ADMIN, DAY_MS, isoTime, oneOf, queryField, userPath, utcDay, wholeNumber } from './admin-input.ts';
import { type PortalContext, permissionsOf, portalRequest, render, requirePermission } from './context.ts';

/** The page shows the first `fallback` events unless asked for more; the download allows more. */
const PAGE_LIMIT = { min: 1, max: 1000, fallback: 100 };
const CSV_LIMIT = { min: 1, max: 10_000, fallback: 10_000 };

const FILTERS = ['user', 'type', 'outcome', 'since', 'until', 'limit'] as const;
export type AuditFilters = Record<(typeof FILTERS)[number], string>;

/** The filters as typed, for filling the form again and for the CSV link. */
export function readFilters(query: unknown): AuditFilters {
  return {
    user: queryField(query, 'user', 256),
    type: queryField(query, 'type', 100),
    outcome: queryField(query, 'outcome', 16),
    since: queryField(query, 'since', 10),
    until: queryField(query, 'until', 10),
    limit: queryField(query, 'limit', 8),
  };
}

/** The store's query for the filters: days are UTC, `until` includes its whole day. */
export function toAuditQuery(filters: AuditFilters, limits: typeof PAGE_LIMIT): AuditQuery {
  if (!/^[A-Za-z0-9_.-]*$/.test(filters.type))
    throw new MfaError('input.invalid', { field: 'type', detail: 'letters, digits, _ . -' });
  const outcome = oneOf(filters.outcome, 'outcome', [...AUDIT_OUTCOMES, 'any']);
  const since = utcDay(filters.since, 'since');
  const untilDay = utcDay(filters.until, 'until');
  const until = untilDay === undefined ? undefined : untilDay + DAY_MS - 1;
  if (since !== undefined && until !== undefined && since > until)
    throw new MfaError('input.invalid', { field: 'until', detail: 'not before since' });
  return {
    ...(filters.user ? { username: canonicalUsername(filters.user) } : {}),
    ...(filters.type ? { type: filters.type } : {}),
    ...(outcome === undefined || outcome === 'any' ? {} : { outcome }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    limit: wholeNumber(filters.limit, 'limit', limits),
    order: 'newest',
  };
}

// ---------------------------------------------------------------- CSV

const CSV_COLUMNS = [
  'time',
  'type',
  'outcome',
  'channel',
  'user',
  'actor',
  'client_address',
  'reason',
  'application',
  'details',
] as const;

/**
 * One CSV cell: a value a spreadsheet would read as a formula (= + - @, or a leading tab or CR)
 * gets a leading quote mark (OWASP's CSV injection advice); a value with a comma, quote or line
 * break is quoted, with quotes doubled (RFC 4180).
 */
export function csvCell(value: string | null): string {
  let text = value ?? '';
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function auditCsv(events: readonly StoredAuditEvent[]): string {
  const rows = events.map((e) =>
    [
      isoTime(e.at),
      e.type,
      e.outcome,
      e.channel,
      e.username,
      e.actor,
      e.clientAddress,
      e.reason,
      e.application,
      e.details === null ? null : JSON.stringify(e.details),
    ].map(csvCell),
  );
  return [CSV_COLUMNS as readonly string[], ...rows].map((row) => `${row.join(',')}\r\n`).join('');
}

// ---------------------------------------------------------------- routes

export function registerAdminAuditRoutes(app: FastifyInstance, ctx: PortalContext): void {
  app.get(`${ADMIN}/audit`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    const session = requirePermission(ctx, pr, 'audit');
    const filters = readFilters(request.query);
    let events: StoredAuditEvent[] = [];
    let limit = 0;
    let error: string | null = null;
    try {
      const query = toAuditQuery(filters, PAGE_LIMIT);
      limit = query.limit ?? 0;
      events = await ctx.core.auditQuery(query);
    } catch (failure) {
      if (!isMfaError(failure, 'input.invalid')) throw failure;
      error = failure.publicMessage;
    }
    const linkUsers = permissionsOf(ctx, session).has('users:read');
    const chosen = Object.entries(filters).filter(([, value]) => value !== '');
    return render(
      ctx,
      request,
      reply,
      pr,
      'admin/audit',
      {
        wide: true,
        styles: ['admin.css'],
        filters,
        outcomes: AUDIT_OUTCOMES,
        events: events.map((e) => ({
          ...e,
          at: isoTime(e.at),
          userUrl: linkUsers && e.username ? userPath(e.username) : null,
        })),
        truncated: limit > 0 && events.length >= limit,
        csvUrl: `${ADMIN}/audit.csv${chosen.length > 0 ? `?${new URLSearchParams(chosen)}` : ''}`,
        error,
      },
      error ? 400 : 200,
    );
  });

  app.get(`${ADMIN}/audit.csv`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    requirePermission(ctx, pr, 'audit');
    const events = await ctx.core.auditQuery(toAuditQuery(readFilters(request.query), CSV_LIMIT));
    const day = isoTime(ctx.clock.now()).slice(0, 10);
    return reply
      .headers({
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="audit-${day}.csv"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      })
      .send(auditCsv(events));
  });
}
