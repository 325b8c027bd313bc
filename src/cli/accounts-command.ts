// `mfa-gateway accounts ...`: SDK service accounts (create, list, revoke).
import { SDK_SCOPES } from '../core/ports.ts';
import { adminContext, CONFIG_OPTION, type Io, parse, table, UsageError, withServices } from './context.ts';

export const ACCOUNTS_HELP = `Usage: mfa-gateway accounts <command> [options]

Service accounts call the SDK (/sdk/v1) with a bearer token, HTTP Basic (name and token), or a
client certificate on a mutual-TLS listener.

Commands:
  create NAME --scopes LIST [--network CIDR]... [--cert-fingerprint SHA256] [--cert-subject DN]
                        prints the account's token once; only its hash is stored.
                        LIST: comma-separated, from ${SDK_SCOPES.join(', ')}.
                        --network limits the source addresses it may call from (repeatable).
                        --cert-fingerprint (openssl x509 -noout -fingerprint -sha256) or
                        --cert-subject (e.g. "CN=edge-1,O=Example") lets a client certificate
                        stand for the token.
  list [--json]         every account, revoked ones included
  revoke NAME           the account's token and certificate stop working at once

Options:
  -c, --config FILE     configuration file (default: $MFA_GATEWAY_CONFIG)`;

export async function accountsCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {
    ...CONFIG_OPTION,
    scopes: { type: 'string' },
    network: { type: 'string', multiple: true },
    'cert-fingerprint': { type: 'string' },
    'cert-subject': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!sub || values.help) {
    io.out(ACCOUNTS_HELP);
    return sub ? 0 : 2;
  }
  if (!['create', 'list', 'revoke'].includes(sub)) throw new UsageError(`accounts: unknown command '${sub}'`);
  const name = positionals[0];
  if (sub !== 'list' && !name) throw new UsageError(`accounts ${sub}: NAME is required`);
  if (sub === 'create' && !values.scopes) throw new UsageError('accounts create: --scopes is required');
  const ctx = adminContext();
  return withServices(values.config, io, async ({ accounts }) => {
    if (sub === 'create') {
      const { account, token } = await accounts.create(
        {
          name: name as string,
          scopes: (values.scopes ?? '').split(',').map((s) => s.trim()),
          networks: values.network ?? [],
          ...(values['cert-fingerprint'] ? { certFingerprint: values['cert-fingerprint'] } : {}),
          ...(values['cert-subject'] ? { certSubject: values['cert-subject'] } : {}),
        },
        ctx,
      );
      io.out(`created service account ${account.name} (scopes: ${account.scopes.join(', ')})`);
      io.out(`token: ${token}`);
      io.err('The token is shown once. Keep it in a secret store; only its hash is kept here.');
      return 0;
    }
    if (sub === 'revoke') {
      await accounts.revoke(name as string, ctx);
      io.out(`revoked service account ${name}`);
      return 0;
    }
    const list = await accounts.list();
    if (values.json) io.out(JSON.stringify(list, null, 2));
    else {
      const rows = list.map((a) => [
        a.name,
        a.revokedAt === null ? 'active' : 'revoked',
        a.scopes.join(','),
        a.networks.join(',') || 'any',
        a.certFingerprint || a.certSubject ? 'yes' : 'no',
      ]);
      for (const line of table([['NAME', 'STATUS', 'SCOPES', 'NETWORKS', 'CERTIFICATE'], ...rows]))
        io.out(line);
      io.out(`${list.length} account(s)`);
    }
    return 0;
  });
}
