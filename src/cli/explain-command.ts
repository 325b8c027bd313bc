// `mfa-gateway explain URL`: what the gateway would do with one request, step by step, from the
// configuration alone: the canonical URL, each rule tried in order, the level required from a
// given address, the upstream, and optionally whether a user passes the app's users/groups list.
import { requireInternal } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { systemClock } from '../core/clock.ts';
import { isMfaError } from '../core/errors.ts';
import {
  type AccessPolicy,
  createAccessPolicy,
  type Decision,
  ruleFromApp,
} from '../core/policy/access-rules.ts';
import { normaliseAddress } from '../core/policy/networks.ts';
import type { Directory } from '../core/ports.ts';
import { createLdapDirectory } from '../directory/ldap-directory.ts';
import { createUsersFileDirectory } from '../directory/users-file.ts';
import { compileApps, upstreamUrl } from '../gateway/apps.ts';
import { type CanonicalRequest, canonicalRequest } from '../http/canonical-request.ts';
import { createLogger } from '../main.ts';
import { CONFIG_OPTION, type Io, parse, readConfig, UsageError } from './context.ts';

/** TEST-NET-3 (RFC 5737): documentation space, so normally outside every trusted network. */
const DEFAULT_IP = '203.0.113.1';

export const EXPLAIN_HELP = `Usage: mfa-gateway explain URL [--ip ADDRESS] [--user USERNAME]

Shows what the gateway would do with a request for URL: the canonical URL, each access rule in
order until the first that matches, the level required, the reasons, and the upstream URL.
The URL is taken as a client would send it on the wire (a browser would already have turned
backslashes into slashes); a fragment (#...) is ignored, since browsers never send it.

Options:
  --ip ADDRESS          the client address (default: ${DEFAULT_IP}, an address outside every
                        trusted network)
  --user USERNAME       also look the user up in the directory and say whether the app's
                        users/groups restriction lets them in
  -c, --config FILE     configuration file (default: $MFA_GATEWAY_CONFIG)

Exit status: 0 when explained (whatever the decision), 1 when the gateway would refuse the URL
itself (400), 2 for a usage error.`;

/** Splits without normalising: `new URL()` would resolve dot segments and backslashes first. */
function splitUrl(url: string): { scheme: 'http' | 'https'; authority: string; rawUrl: string } {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/s.exec(url);
  const scheme = match?.[1]?.toLowerCase();
  if (!match || (scheme !== 'http' && scheme !== 'https'))
    throw new UsageError(`expected an http:// or https:// URL, got '${url}'`);
  const rest = match[3] ?? '';
  return { scheme, authority: match[2] ?? '', rawUrl: rest.startsWith('/') ? rest : `/${rest}` };
}

function openDirectory(config: Readonly<Config>): Directory {
  const { directory } = requireInternal(config);
  if (directory.type === 'ldap' && directory.ldap) {
    const logger = createLogger({ ...config, log: { level: 'warn' } }, process.stderr as never);
    return createLdapDirectory(directory.ldap, { clock: systemClock, logger });
  }
  if (directory.type === 'file' && directory.file) return createUsersFileDirectory(directory.file);
  throw new UsageError(`directory: no settings for type '${directory.type}'`);
}

function printRules(io: Io, policy: AccessPolicy, request: CanonicalRequest, ip: string): Decision {
  const target = { host: request.host, port: request.port, matchPath: request.matchPath };
  const { matches, decision } = policy.explain(target, ip);
  io.out('rules');
  if (matches.length === 0) io.out('  (none configured)');
  for (const m of matches) {
    io.out(`  #${m.index} ${m.rule.name}: ${m.matches ? 'matches' : `skipped: ${m.why}`}`);
    if (m.matches) break;
  }
  io.out(`chosen     ${decision.rule ? `#${decision.ruleIndex} ${decision.rule.name}` : 'none'}`);
  io.out(`policy     ${decision.policy}`);
  io.out(`required   ${decision.required}${decision.trustedNetwork ? ' (trusted network)' : ''}`);
  io.out('reasons');
  for (const reason of decision.reasons) io.out(`  - ${reason}`);
  return decision;
}

async function printUser(
  io: Io,
  config: Readonly<Config>,
  policy: AccessPolicy,
  decision: Decision,
  username: string,
) {
  if (decision.required === 'bypass') {
    io.out(`user       ${username}: not asked (the request needs no sign-in)`);
    return;
  }
  const directory = openDirectory(config);
  try {
    const user = await directory.findUser(username);
    if (!user) {
      io.out(`user       ${username}: not found in the directory, so cannot sign in`);
      return;
    }
    const result = policy.authorize(decision, { username: user.username, groups: user.groups });
    io.out(`user       ${user.username} (groups: ${user.groups.join(', ') || 'none'})`);
    io.out(`           ${result.allowed ? 'allowed' : 'refused'}: ${result.reason}`);
  } finally {
    await directory.close();
  }
}

export async function explainCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...CONFIG_OPTION,
    ip: { type: 'string' },
    user: { type: 'string' },
  });
  if (values.help) {
    io.out(EXPLAIN_HELP);
    return 0;
  }
  const [url, ...extra] = positionals;
  if (url === undefined || extra.length > 0) throw new UsageError('expected exactly one URL');
  const ip = normaliseAddress(values.ip ?? DEFAULT_IP);
  if (ip === undefined) throw new UsageError(`--ip: expected an IP address, got '${values.ip}'`);
  const { scheme, authority, rawUrl } = splitUrl(url);
  const config = readConfig(values.config, io);

  let request: CanonicalRequest;
  try {
    request = canonicalRequest({ rawUrl, hostHeader: authority, scheme });
  } catch (error) {
    if (!isMfaError(error, 'input.invalid')) throw error;
    io.out(`refused    ${url}`);
    io.out(`           the gateway answers 400: ${error.detail ?? error.message}`);
    return 1;
  }
  const apps = compileApps(config.gateway);
  const policy = createAccessPolicy(
    apps.map((app) => ruleFromApp(app.config)),
    config.gateway.trustedNetworks,
  );
  io.out(`url        ${request.scheme}://${request.authority}${request.path}${request.query}`);
  if (request.matchPath !== request.path) io.out(`matched as ${request.matchPath}`);
  io.out(
    `client     ${ip}${values.ip === undefined ? ' (default: an address outside every trusted network)' : ''}`,
  );
  const decision = printRules(io, policy, request, ip);
  const app = apps[decision.ruleIndex];
  const forwarded = app?.upstreamOrigin !== undefined && decision.required !== 'deny';
  io.out(`upstream   ${forwarded && app ? upstreamUrl(app, request.path, request.query) : 'none (denied)'}`);
  if (values.user !== undefined) await printUser(io, config, policy, decision, values.user);
  return 0;
}
