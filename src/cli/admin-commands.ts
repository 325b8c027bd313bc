// `mfa-gateway import`, `secrets generate` and `audit`.

import { randomBytes } from 'node:crypto';
import { generateVapidKeys } from '../providers/web-push.ts';
import {
  adminContext,
  CONFIG_OPTION,
  type Io,
  parse,
  parseSince,
  table,
  UsageError,
  withServices,
} from './context.ts';

export const IMPORT_HELP = `Usage: mfa-gateway import [--base-dn DN] [--filter FILTER] [--group NAME] [--allow-empty]

Imports users from the configured directory into the store, idempotently (by the directory's unique
id): new users are added, changed ones updated, and imported users no longer found are disabled.
Without options, directory.ldap.import in the configuration says what to read.

Options:
  --base-dn DN          search base (default: directory.ldap.import.baseDn, else directory.ldap.baseDn)
  --filter FILTER       extra LDAP filter, ANDed with directory.ldap.userFilter
  --group NAME          only members of this group (name or DN)
  --allow-empty         accept an empty result (disables every imported user)
  -c, --config FILE     configuration file (default: $MFA_GATEWAY_CONFIG)`;

export async function importCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    ...CONFIG_OPTION,
    'base-dn': { type: 'string' },
    filter: { type: 'string' },
    group: { type: 'string' },
    'allow-empty': { type: 'boolean' },
  });
  if (values.help) {
    io.out(IMPORT_HELP);
    return 0;
  }
  return withServices(values.config, io, async ({ config, importUsers }) => {
    const defaults = config.directory.ldap?.import ?? {};
    const query = {
      baseDn: values['base-dn'] ?? defaults.baseDn,
      filter: values.filter ?? defaults.filter,
      group: values.group ?? defaults.group,
    };
    const result = await importUsers(query, adminContext(), { allowEmpty: values['allow-empty'] });
    io.out(
      `added ${result.added}, updated ${result.updated}, unchanged ${result.unchanged}, disabled ${result.disabled}`,
    );
    for (const skip of result.skipped) io.err(`skipped ${skip.username}: ${skip.reason}`);
    return 0;
  });
}

export const SECRETS_HELP = `Usage: mfa-gateway secrets generate [--bytes N] [--vapid]

Prints a new random secret (base64, 32 bytes by default): for store.encryptionKey, RADIUS shared
secrets and session keys. Put it in a file readable only by the service and refer to it as
file:/path, or in the environment as env:NAME.

--vapid prints a Web Push key pair instead (mobile.webPush.publicKey and .privateKey).`;

export async function secretsCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parse(rest, { bytes: { type: 'string' }, vapid: { type: 'boolean' } });
  if (sub !== 'generate' || values.help) {
    io.out(SECRETS_HELP);
    return sub === 'generate' || values.help ? 0 : 2;
  }
  if (values.vapid) {
    const keys = generateVapidKeys();
    io.out(`publicKey: ${keys.publicKey}`);
    io.out(`privateKey: ${keys.privateKey}`);
    return 0;
  }
  const bytes = Number(values.bytes ?? 32);
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > 128)
    throw new UsageError('--bytes: expected an integer from 16 to 128');
  io.out(randomBytes(bytes).toString('base64'));
  return 0;
}

export const AUDIT_HELP = `Usage: mfa-gateway audit [--user USERNAME] [--since WHEN] [--type TYPE] [--limit N] [--json]

Lists audit events, oldest first. WHEN is a date (2026-11-01, 2026-11-01T10:00:00Z) or a duration
back from now (30m, 24h, 7d).`;

export async function auditCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    ...CONFIG_OPTION,
    user: { type: 'string' },
    since: { type: 'string' },
    type: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    io.out(AUDIT_HELP);
    return 0;
  }
  const limit = values.limit === undefined ? 1000 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit: expected a positive integer');
  const since = values.since === undefined ? undefined : parseSince(values.since, Date.now());
  return withServices(values.config, io, async ({ store }) => {
    const events = await store.queryAudit({ username: values.user, since, type: values.type, limit });
    if (values.json) {
      for (const event of events) io.out(JSON.stringify({ ...event, at: new Date(event.at).toISOString() }));
      return 0;
    }
    const rows = events.map((e) => [
      new Date(e.at).toISOString(),
      e.type,
      e.outcome,
      e.channel,
      e.username ?? '-',
      e.clientAddress ?? '-',
      e.reason ?? '',
      e.actor ?? '',
    ]);
    for (const line of table([
      ['TIME', 'TYPE', 'OUTCOME', 'CHANNEL', 'USER', 'ADDRESS', 'REASON', 'ACTOR'],
      ...rows,
    ]))
      io.out(line);
    io.out(`${events.length} event(s)`);
    return 0;
  });
}
