// The access policy: ordered rules, the first whose host and path match wins, no match denies.
// A trusted network is a criterion of the chosen rule that lowers the level it requires; the
// users/groups restriction is checked separately once the subject is known. Pure: no I/O, and
// everything that can be compiled (networks, host entries) is compiled once, at start-up.
import { createNetworkList, type NetworkList, normaliseAddress } from './networks.ts';

export type Level = 'bypass' | 'one_factor' | 'two_factor' | 'deny';

export interface AccessRule {
  name: string;
  hosts: readonly string[];
  pathPrefix: string;
  policy: Level;
  users: readonly string[];
  groups: readonly string[];
  trustedNetworks: readonly string[];
  trustedNetworkSkips: 'second_factor' | 'both';
}

export interface AccessTarget {
  host: string;
  port: number;
  matchPath: string;
}

export interface Decision {
  /** -1: no rule matched. */
  ruleIndex: number;
  rule: AccessRule | undefined;
  /** The rule's policy. */
  policy: Level;
  /** What the request needs once trusted networks are taken into account. */
  required: Level;
  trustedNetwork: boolean;
  /** Human readable, for `mfa-gateway explain` and logs. */
  reasons: string[];
}

export interface Authorization {
  allowed: boolean;
  reason: string;
}

export interface RuleMatch {
  index: number;
  rule: AccessRule;
  matches: boolean;
  /** 'matches', or why the rule was skipped. */
  why: string;
}

interface HostEntry {
  host: string;
  port: number | undefined;
}

interface CompiledRule {
  rule: AccessRule;
  hosts: HostEntry[];
  prefix: string;
  networks: NetworkList;
}

const NO_RULE = 'no rule matches; the default is deny';

/** `name`, `name:port`, `[v6]`, `[v6]:port`. A bare IPv6 literal is taken as the bracketed form. */
function parseHostEntry(entry: string, ruleName: string): HostEntry {
  const fail = () => new Error(`access rule '${ruleName}': host '${entry}' is not a host name or host:port`);
  const text = entry.toLowerCase();
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw fail();
    host = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw fail();
      portText = rest.slice(1);
    }
    const inner = normaliseAddress(host.slice(1, -1));
    if (inner === undefined || !inner.includes(':')) throw fail();
    host = `[${inner}]`;
  } else if (normaliseAddress(text)?.includes(':')) {
    host = `[${normaliseAddress(text)}]`;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon !== -1) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
    host = host.endsWith('.') ? host.slice(0, -1) : host;
    if (!/^[a-z0-9.-]+$/.test(host)) throw fail();
  }
  if (portText === undefined) return { host, port: undefined };
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) throw fail();
  return { host, port };
}

/** Why no canonical path (see http/canonical-request.ts) can ever start with this prefix, if so. */
function prefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith('/')) return 'must start with /';
  if (/[^\x21-\x7e]|[\\?#;]/.test(prefix)) return 'must be printable ASCII without \\ ? # ;';
  if (/\/\/|\/\.\.?(\/|$)/.test(prefix)) return 'must not contain // or dot segments';
  for (const pct of prefix.match(/%.{0,2}/g) ?? []) {
    const code = /^%[0-9A-F]{2}$/.test(pct) ? Number.parseInt(pct.slice(1), 16) : -1;
    if (code === -1 || /[A-Za-z0-9\-._~/\\]/.test(String.fromCharCode(code)))
      return `writes '${pct}', which canonical paths never contain`;
  }
  return undefined;
}

/**
 * A prefix no canonical path can have would make its rule silently unreachable, so that a later,
 * looser rule takes its requests: refuse it at start-up instead.
 */
function compilePrefix(prefix: string, ruleName: string): string {
  const problem = prefixProblem(prefix);
  if (problem) throw new Error(`access rule '${ruleName}': pathPrefix '${prefix}' ${problem}`);
  // `/app/` and `/app` mean the same subtree; matching is on segment boundaries either way.
  return prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
}

function hostMatches(entries: readonly HostEntry[], target: AccessTarget): boolean {
  if (entries.length === 0) return true;
  return entries.some((e) => e.host === target.host && (e.port === undefined || e.port === target.port));
}

function pathMatches(prefix: string, path: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

/** The rule's level after trusted networks, with the reason; bypass and deny never change. */
function requiredLevel(rule: AccessRule, trusted: boolean, clientAddress: string): [Level, string] {
  const { policy, trustedNetworkSkips: skips } = rule;
  if (!trusted) return [policy, `client ${clientAddress} is not in a trusted network`];
  const inTrusted = `client ${clientAddress} is in a trusted network, which skips ${skips}`;
  if (policy === 'bypass' || policy === 'deny') return [policy, `${inTrusted}, but ${policy} never changes`];
  // Skipping the password leaves no subject to hold against the users/groups list, so a
  // restricted rule still asks for it: a trusted network must never widen who gets in.
  const restricted = rule.users.length > 0 || rule.groups.length > 0;
  if (skips === 'both' && restricted)
    return ['one_factor', `${inTrusted}, but the rule restricts users or groups: one_factor is still needed`];
  if (skips === 'both') return ['bypass', `${inTrusted}: bypass`];
  if (policy === 'two_factor') return ['one_factor', `${inTrusted}: one_factor is enough`];
  return [policy, `${inTrusted}; one_factor has no second factor to skip`];
}

export function createAccessPolicy(rules: readonly AccessRule[], globalTrustedNetworks: readonly string[]) {
  const global = createNetworkList(globalTrustedNetworks);
  const compiled: CompiledRule[] = rules.map((rule) => ({
    rule,
    hosts: rule.hosts.map((h) => parseHostEntry(h, rule.name)),
    prefix: compilePrefix(rule.pathPrefix, rule.name),
    networks: createNetworkList(rule.trustedNetworks),
  }));

  function why(c: CompiledRule, target: AccessTarget): string {
    if (!hostMatches(c.hosts, target))
      return `host '${target.host}' port ${target.port} is not one of ${c.rule.hosts.join(', ')}`;
    if (!pathMatches(c.prefix, target.matchPath))
      return `path '${target.matchPath}' is not under '${c.rule.pathPrefix}'`;
    return 'matches';
  }

  /** Every rule with whether it matches and why not; the decision is the first that does. */
  function explain(
    target: AccessTarget,
    clientAddress: string,
  ): { matches: RuleMatch[]; decision: Decision } {
    const matches = compiled.map((c, index) => {
      const text = why(c, target);
      return { index, rule: c.rule, matches: text === 'matches', why: text };
    });
    return { matches, decision: decide(target, clientAddress) };
  }

  function decide(target: AccessTarget, clientAddress: string): Decision {
    const index = compiled.findIndex(
      (c) => hostMatches(c.hosts, target) && pathMatches(c.prefix, target.matchPath),
    );
    const chosen = compiled[index];
    if (!chosen) {
      return {
        ruleIndex: -1,
        rule: undefined,
        policy: 'deny',
        required: 'deny',
        trustedNetwork: false,
        reasons: [NO_RULE],
      };
    }
    const { rule } = chosen;
    const reasons = [`rule #${index} '${rule.name}' is the first to match; its policy is ${rule.policy}`];
    const trusted = chosen.networks.contains(clientAddress) || global.contains(clientAddress);
    const [required, reason] = requiredLevel(rule, trusted, clientAddress);
    reasons.push(reason);
    return { ruleIndex: index, rule, policy: rule.policy, required, trustedNetwork: trusted, reasons };
  }

  function authorize(
    decision: Decision,
    subject: { username: string; groups: readonly string[] },
  ): Authorization {
    const { rule } = decision;
    if (!rule || decision.required === 'deny') return { allowed: false, reason: decision.reasons.join('; ') };
    if (rule.users.length === 0 && rule.groups.length === 0)
      return { allowed: true, reason: `rule '${rule.name}' does not restrict users or groups` };
    const username = subject.username.toLowerCase();
    if (rule.users.some((u) => u.toLowerCase() === username))
      return { allowed: true, reason: `user '${subject.username}' is listed in rule '${rule.name}'` };
    const wanted = new Set(rule.groups.map((g) => g.toLowerCase()));
    const group = subject.groups.find((g) => wanted.has(g.toLowerCase()));
    if (group !== undefined)
      return {
        allowed: true,
        reason: `user '${subject.username}' is in group '${group}' of rule '${rule.name}'`,
      };
    return {
      allowed: false,
      reason: `user '${subject.username}' is neither listed in rule '${rule.name}' nor in one of its groups`,
    };
  }

  return { decide, explain, authorize, rules };
}

export type AccessPolicy = ReturnType<typeof createAccessPolicy>;

/** An app as the configuration describes it (structurally: the core does not import the config). */
export interface AppRuleSource {
  name: string;
  match: { hosts: readonly string[]; pathPrefix: string };
  policy: Level;
  users: readonly string[];
  groups: readonly string[];
  trustedNetworks: readonly string[];
  trustedNetworkSkips: 'second_factor' | 'both';
}

export function ruleFromApp(app: AppRuleSource): AccessRule {
  return {
    name: app.name,
    hosts: app.match.hosts,
    pathPrefix: app.match.pathPrefix,
    policy: app.policy,
    users: app.users,
    groups: app.groups,
    trustedNetworks: app.trustedNetworks,
    trustedNetworkSkips: app.trustedNetworkSkips,
  };
}
