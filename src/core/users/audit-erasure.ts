// What a GDPR erasure leaves of a user's audit events. The audit log is the security record (who
// signed in from where, who locked out whom, which administrator did what), so the events stay,
// with their time, type, outcome, channel, reason code and application; what points at the person
// goes: the name becomes a keyed pseudonym, their address its network, text details are dropped.
import { createHmac, hkdfSync } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { AuditEvent, StoredAuditEvent } from '../ports.ts';

const PSEUDONYM_INFO = 'mfa-gateway audit pseudonym v1';

/**
 * The pseudonym key, derived from the pepper (itself from the store key) with its own label: every
 * node that shares the store computes the same pseudonym, and a copy of the database alone cannot
 * turn one back into a name by hashing a list of usernames.
 */
export function pseudonymKey(pepper: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', pepper, new Uint8Array(0), PSEUDONYM_INFO, 32));
}

/**
 * `erased:` and 16 hex digits of HMAC-SHA256 over the canonical name. Stable, so the erased user's
 * events still read as one person's (a run of failures, then a lockout) without saying whose.
 */
export function pseudonymOf(key: Uint8Array, username: string): string {
  const mac = createHmac('sha256', key).update(username.trim().toLowerCase(), 'utf8').digest('hex');
  return `erased:${mac.slice(0, 16)}`;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad included), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  if (!isIPv6(address)) return undefined;
  const [head = '', tail] = address.split('::');
  const parse = (part: string) =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The network an address belongs to: IPv4 /24, IPv6 /48 (a site), as web analytics anonymise
 * addresses. Enough to see that failures came from one network, not which household. Anything
 * that is not an address (`local` for the CLI) is kept.
 */
export function networkOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const v4 = mapped ?? address;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  const groups = ipv6Groups(address);
  if (!groups) return address;
  return `${groups
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(':')}::/48`;
}

/** Counts, flags, times and status codes stay; text (names, numbers, free-text reasons) and nesting go. */
function scalarsOnly(details: Record<string, unknown> | null): Record<string, unknown> | null {
  if (details === null) return null;
  const kept = Object.entries(details).filter(
    ([, value]) => typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)),
  );
  return kept.length > 0 ? Object.fromEntries(kept) : null;
}

/**
 * One audit event after erasing `username`. An event about them loses the name and every text
 * detail. An event where they only acted (as a portal administrator, on another user) keeps its
 * details, which are about that other user, and loses the actor's name. The address is theirs, and
 * cut to its network, when they acted or nobody did (their own sign-ins); when someone else acted
 * (`sdk:crm`, `cli:root`, another administrator), actor and address are that person's and stay, so
 * whoever changed or deleted the account remains accountable.
 */
export function eraseAuditEvent(event: StoredAuditEvent, username: string, pseudonym: string): AuditEvent {
  const name = username.trim().toLowerCase();
  const about = event.username === name;
  const byThem = event.actor === name;
  if (!about && !byThem) return event;
  const theirAddress = byThem || event.actor === null;
  return {
    at: event.at,
    type: event.type,
    outcome: event.outcome,
    channel: event.channel,
    username: about ? pseudonym : event.username,
    clientAddress:
      event.clientAddress !== null && theirAddress ? networkOf(event.clientAddress) : event.clientAddress,
    reason: event.reason,
    actor: byThem ? pseudonym : event.actor,
    application: event.application,
    details: about ? scalarsOnly(event.details) : event.details,
  };
}
