// `mfa-gateway users ...`: list, show, add, totp, mobile, bypass, disable, enable, reset, unblock, hash-password.

import type { UserRecord } from '../core/ports.ts';
import { USER_STATUSES } from '../core/ports.ts';
import { hashPassword } from '../core/secrets/password-hash.ts';
import type { TotpEnrollment } from '../core/users/user-admin.ts';
import { adminContext, CONFIG_OPTION, type Io, parse, table, UsageError, withServices } from './context.ts';

export const USERS_HELP = `Usage: mfa-gateway users <command> [options]

Commands:
  list [--status enabled|disabled|blocked] [--search TEXT] [--json]
  show USERNAME [--json]
  add USERNAME [--display-name NAME] [--email ADDR] [--phone +E164]... [--totp]
                        --totp prints a new authenticator seed and its otpauth:// URI once
  disable USERNAME      refuse all sign-ins of the user
  enable USERNAME
  totp USERNAME [--secret BASE32]
                        add an authenticator seed to an existing (e.g. imported) user;
                        --secret imports an existing token's seed instead of a new one
  mobile USERNAME       a single-use activation code (10 minutes) for the web authenticator,
                        with the link to open on the user's phone
  bypass USERNAME [--seconds N] [--reason TEXT]
                        let the user through the second factor once within N seconds
                        (default 300), e.g. for a forgotten phone
  reset USERNAME        remove every second factor (the user enrols again)
  unblock USERNAME      lift a lockout or a fraud block
  hash-password         read a password from standard input, print its scrypt hash
                        (for the users file)

Options:
  -c, --config FILE     configuration file (default: $MFA_GATEWAY_CONFIG)
  -h, --help`;

const iso = (ms: number) => new Date(ms).toISOString();

function describeUser(user: UserRecord, locked: boolean, factors: number): string[] {
  return [
    `username:       ${user.username}`,
    `display name:   ${user.displayName ?? ''}`,
    `email:          ${user.email ?? ''}`,
    `phones:         ${user.phones.join(', ')}`,
    `status:         ${user.status}${locked ? ' (locked out)' : ''}`,
    `default method: ${user.defaultMethod ?? '(none)'}`,
    `factors:        ${factors}`,
    `source:         ${user.fromDirectory ? `directory (${user.uniqueId})` : 'local'}`,
    `created:        ${iso(user.createdAt)}`,
    `updated:        ${iso(user.updatedAt)}`,
  ];
}

function printEnrollment(io: Io, enrollment: TotpEnrollment): void {
  io.out(`authenticator secret: ${enrollment.secretBase32}`);
  io.out(`otpauth URI:          ${enrollment.uri}`);
  io.out('(shown once: give it to the user over a trusted channel)');
}

export async function usersCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {
    ...CONFIG_OPTION,
    status: { type: 'string' },
    search: { type: 'string' },
    json: { type: 'boolean' },
    'display-name': { type: 'string' },
    email: { type: 'string' },
    phone: { type: 'string', multiple: true },
    totp: { type: 'boolean' },
    secret: { type: 'string' },
    seconds: { type: 'string' },
    reason: { type: 'string' },
  });
  if (!sub || values.help) {
    io.out(USERS_HELP);
    return sub ? 0 : 2;
  }
  if (sub === 'hash-password') {
    const password = (await io.readStdin()).replace(/\r?\n$/, '');
    if (password.length === 0) throw new UsageError('hash-password: the password on standard input is empty');
    io.out(await hashPassword(password));
    return 0;
  }
  const name = positionals[0];
  const needName = ['show', 'add', 'totp', 'mobile', 'bypass', 'disable', 'enable', 'reset', 'unblock'];
  if (needName.includes(sub) && !name) throw new UsageError(`users ${sub}: USERNAME is required`);
  const ctx = adminContext();
  return withServices(values.config, io, async ({ store, userAdmin, regulator, enrollment, config }) => {
    switch (sub) {
      case 'list': {
        const status = values.status;
        if (status && !(USER_STATUSES as readonly string[]).includes(status)) {
          throw new UsageError(`--status: expected one of ${USER_STATUSES.join(', ')}`);
        }
        const users = await store.listUsers({
          status: status as UserRecord['status'] | undefined,
          search: values.search,
        });
        if (values.json) io.out(JSON.stringify(users, null, 2));
        else {
          const rows = users.map((u) => [
            u.username,
            u.status,
            u.defaultMethod ?? '-',
            u.fromDirectory ? 'directory' : 'local',
            u.displayName ?? '',
          ]);
          for (const line of table([['USERNAME', 'STATUS', 'METHOD', 'SOURCE', 'NAME'], ...rows]))
            io.out(line);
          io.out(`${users.length} user(s)`);
        }
        return 0;
      }
      case 'show': {
        const user = await userAdmin.find(name as string);
        const factors = (await store.listTotpFactors(user.id)).length;
        const locked = await regulator.isUserLocked(user.username);
        if (values.json)
          io.out(
            JSON.stringify({ ...user, pinHash: user.pinHash ? '(set)' : null, locked, factors }, null, 2),
          );
        else for (const line of describeUser(user, locked, factors)) io.out(line);
        return 0;
      }
      case 'add': {
        const user = await userAdmin.add(
          {
            username: name as string,
            displayName: values['display-name'],
            email: values.email,
            phones: values.phone,
          },
          ctx,
        );
        io.out(`added ${user.username}`);
        if (values.totp) printEnrollment(io, await userAdmin.enrollTotp(user.username, ctx));
        return 0;
      }
      case 'totp': {
        printEnrollment(io, await userAdmin.enrollTotp(name as string, ctx, 'authenticator', values.secret));
        return 0;
      }
      case 'mobile': {
        const issued = await enrollment.issueActivationCodeAsAdmin(name as string, ctx);
        const link = new URL('/mobile/app/activate', config.server.publicUrl);
        link.searchParams.set('c', issued.code);
        io.out(`activation code: ${issued.code} (single use, until ${iso(issued.expiresAt)})`);
        io.out(`open on the phone: ${link.href}`);
        return 0;
      }
      case 'bypass': {
        const seconds = values.seconds === undefined ? 300 : Number(values.seconds);
        if (!Number.isInteger(seconds)) throw new UsageError('--seconds: expected a whole number');
        const bypass = await userAdmin.issueBypass(
          name as string,
          { seconds, ...(values.reason ? { reason: values.reason } : {}) },
          ctx,
        );
        io.out(
          `one-time bypass for ${(name as string).toLowerCase()} until ${iso(bypass.expiresAt)} (used by the next sign-in)`,
        );
        return 0;
      }
      case 'disable':
      case 'enable': {
        const user = await userAdmin[sub](name as string, ctx);
        io.out(`${user.username} is ${user.status}`);
        return 0;
      }
      case 'reset': {
        const removed = await userAdmin.reset(name as string, ctx);
        io.out(`removed ${removed} factor(s) of ${(name as string).toLowerCase()}`);
        return 0;
      }
      case 'unblock': {
        const result = await userAdmin.unblock(name as string, ctx);
        io.out(
          result.lockoutCleared || result.wasBlocked
            ? `unblocked ${(name as string).toLowerCase()}${result.wasBlocked ? ' (fraud block lifted)' : ''}`
            : `${(name as string).toLowerCase()} was not locked`,
        );
        return 0;
      }
      default:
        throw new UsageError(`users: unknown command '${sub}' (see 'mfa-gateway users --help')`);
    }
  });
}
