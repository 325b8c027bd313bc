// Turns raw YAML data into a checked, defaulted Config, collecting every problem with its key path
// so an administrator fixes the file in one pass.
import type { TSchema } from 'typebox';
import { Settings } from 'typebox/system';
import Value from 'typebox/value';
import { createAccessPolicy, ruleFromApp } from '../core/policy/access-rules.ts';
import { parseAddressOrCidr } from '../core/policy/networks.ts';
import { encodeValue, findAttribute } from '../radius/dictionary.ts';
import { type Config, ConfigSchema } from './schema.ts';

export interface ConfigProblem {
  path: string;
  message: string;
}

/** Keys that moved; a user of the old name is told the new one instead of "unknown key". */
const RENAMED: Record<string, string> = {
  'server.listeners': 'server.listen',
  'server.trustedProxy': 'server.trustedProxies',
  'directory.ldap.url': 'directory.ldap.servers',
  'directory.ldap.urls': 'directory.ldap.servers',
  'store.key': 'store.encryptionKey',
  'regulation.maxRetries': 'regulation.user.maxFailures',
};

export function validateConfig(raw: unknown): { config?: Config; problems: ConfigProblem[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      problems: [{ path: '(root)', message: 'must be a mapping of sections (server, store, directory ...)' }],
    };
  }
  const candidate = Value.Default(ConfigSchema, structuredClone(raw));
  const problems = schemaProblems(candidate);
  if (problems.length === 0) problems.push(...semanticProblems(candidate as Config));
  return problems.length === 0 ? { config: candidate as Config, problems } : { problems };
}

/** typebox stops at 8 errors by default; an administrator wants every one of them in one pass. */
export function allErrors(schema: TSchema, value: unknown): ReturnType<typeof Value.Errors> {
  const { maxErrors } = Settings.Get();
  Settings.Set({ maxErrors: 10_000 });
  try {
    return Value.Errors(schema, value);
  } finally {
    Settings.Set({ maxErrors });
  }
}

function schemaProblems(value: unknown): ConfigProblem[] {
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const error of allErrors(ConfigSchema, value)) {
    const problem = describe(error, value);
    if (!problem) continue;
    const key = `${problem.path}\n${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message: string;
}

function describe(error: SchemaError, root: unknown): ConfigProblem | undefined {
  const path = toKeyPath(error.instancePath);
  // The closed-object check reports each extra key twice; keep the one that names it.
  if (error.keyword === 'boolean') return undefined;
  if (error.keyword === 'additionalProperties') {
    const keys = (error.params.additionalProperties as string[] | undefined) ?? [];
    const [first] = keys;
    const full = path === '(root)' ? (first ?? '') : `${path}.${first ?? ''}`;
    const renamed = RENAMED[full];
    if (renamed) return { path: full, message: `has been renamed to '${renamed}'` };
    return { path: full, message: 'is not a known option' };
  }
  if (error.keyword === 'required') {
    const names = (error.params.requiredProperties as string[] | undefined) ?? [];
    return {
      path: path === '(root)' ? names.join(', ') : `${path}.${names.join(', ')}`,
      message: 'is required',
    };
  }
  const schema = schemaAt(error.instancePath);
  const isSecret = Boolean(schema && (schema as Record<string, unknown>)['x-secret']);
  const shown = isSecret ? '<secret>' : show(valueAt(root, error.instancePath));
  return { path, message: `${expectation(error, schema)}, but it's configured as ${shown}` };
}

function expectation(error: SchemaError, schema: TSchema | undefined): string {
  const s = (schema ?? {}) as Record<string, unknown>;
  if (Array.isArray(s.enum)) return `must be one of ${s.enum.map((v) => `'${v}'`).join(', ')}`;
  if (Array.isArray(s.anyOf)) {
    const constants = s.anyOf.map((v: Record<string, unknown>) => v.const).filter((v) => v !== undefined);
    if (constants.length > 0) return `must be one of ${constants.map((v) => `'${v}'`).join(', ')}`;
  }
  if (error.keyword === 'minimum' || error.keyword === 'maximum') {
    const range = [
      s.minimum !== undefined ? `>= ${s.minimum}` : '',
      s.maximum !== undefined ? `<= ${s.maximum}` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    return `must be ${s.type === 'integer' ? 'an integer' : 'a number'} ${range}`;
  }
  if (error.keyword === 'pattern' && typeof s.description === 'string') return `must be ${s.description}`;
  if (error.keyword === 'pattern') return `must match ${String(s.pattern)}`;
  if (error.keyword === 'minLength') return 'must not be empty';
  if (error.keyword === 'minItems') return `must list at least ${String(s.minItems)} item(s)`;
  if (error.keyword === 'format') return `must be a ${String(s.format)}`;
  if (error.keyword === 'type') return `must be ${article(String(error.params.type ?? s.type))}`;
  return error.message;
}

function article(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
  };
  return names[type] ?? type;
}

/** `/server/listen/0/port` → `server.listen[0].port` */
export function toKeyPath(pointer: string): string {
  if (pointer === '') return '(root)';
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function valueAt(root: unknown, pointer: string): unknown {
  let current: unknown = root;
  for (const part of pointer.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** The sub-schema for a data path, following properties and array items (no refs in our schema). */
export function schemaAt(pointer: string): TSchema | undefined {
  let schema: Record<string, unknown> | undefined = ConfigSchema as unknown as Record<string, unknown>;
  for (const part of pointer.split('/').slice(1)) {
    if (!schema) return undefined;
    if (schema.type === 'array') schema = schema.items as Record<string, unknown> | undefined;
    else schema = (schema.properties as Record<string, Record<string, unknown>> | undefined)?.[part];
  }
  return schema as TSchema | undefined;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `'${text.length > 60 ? `${text.slice(0, 57)}...` : text}'`;
}

/** Rules one field cannot express: a section required by another's value, address syntax. */
function semanticProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { directory, server } = config;
  problems.push(...roleProblems(config));
  if (directory?.type === 'file' && !directory.file) {
    problems.push({ path: 'directory.file', message: "is required when directory.type is 'file'" });
  }
  if (directory?.type === 'ldap' && !directory.ldap) {
    problems.push({ path: 'directory.ldap', message: "is required when directory.type is 'ldap'" });
  }
  if (directory?.ldap?.groups.mode === 'search' && !directory.ldap.groups.filter.includes('{dn}')) {
    problems.push({
      path: 'directory.ldap.groups.filter',
      message: "must contain '{dn}' when groups.mode is 'search'",
    });
  }
  server.trustedProxies.forEach((entry, index) => {
    if (!parseAddressOrCidr(entry)) {
      problems.push({
        path: `server.trustedProxies[${index}]`,
        message: `must be an IP address or CIDR, but it's configured as '${entry}'`,
      });
    }
  });
  problems.push(...gatewayProblems(config));
  problems.push(...portalProblems(config));
  problems.push(...radiusProblems(config));
  try {
    new URL(server.publicUrl);
  } catch {
    problems.push({
      path: 'server.publicUrl',
      message: `must be an absolute URL, but it's configured as '${server.publicUrl}'`,
    });
  }
  return problems;
}

/**
 * An internal node owns the store and the directory; an edge node has neither (the DMZ holds no
 * user data) and reaches the internal node's SDK over pinned TLS instead.
 */
function roleProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.role === 'internal') {
    if (!config.store) problems.push({ path: 'store', message: 'is required (role is internal)' });
    if (!config.directory) problems.push({ path: 'directory', message: 'is required (role is internal)' });
    if (config.edge) problems.push({ path: 'edge', message: "is only for role 'edge'" });
    return problems;
  }
  const reason = 'an edge node has no store and no directory: the internal node keeps them';
  if (config.store) problems.push({ path: 'store', message: `must not be set: ${reason}` });
  if (config.directory) problems.push({ path: 'directory', message: `must not be set: ${reason}` });
  if (config.radius.clients.length > 0)
    problems.push({
      path: 'radius.clients',
      message: 'must be empty: RADIUS is served by the internal node',
    });
  const { edge } = config;
  if (!edge) return [...problems, { path: 'edge', message: "is required when role is 'edge'" }];
  let url: URL | undefined;
  try {
    url = new URL(edge.sdkUrl);
  } catch {
    problems.push({
      path: 'edge.sdkUrl',
      message: `must be an absolute URL, but it's configured as '${edge.sdkUrl}'`,
    });
  }
  if (url && url.protocol !== 'https:' && !isLoopbackHost(url.hostname))
    problems.push({ path: 'edge.sdkUrl', message: 'must be https (plain http only to a loopback address)' });
  if (url?.protocol === 'https:' && !edge.caFile)
    problems.push({
      path: 'edge.caFile',
      message: "is required with an https sdkUrl: the internal node's CA is pinned",
    });
  if (Boolean(edge.clientCertFile) !== Boolean(edge.clientKeyFile))
    problems.push({ path: 'edge.clientKeyFile', message: 'clientCertFile and clientKeyFile go together' });
  if (!edge.clientCertFile && !edge.token)
    problems.push({
      path: 'edge',
      message: 'needs clientCertFile and clientKeyFile, or token, to prove itself to the SDK',
    });
  if (edge.clientCertFile && url && url.protocol !== 'https:')
    problems.push({ path: 'edge.clientCertFile', message: 'needs an https sdkUrl' });
  return problems;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || host.startsWith('127.');
}

function gatewayProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const networks = (list: readonly string[], path: string) =>
    list.forEach((entry, index) => {
      if (!parseAddressOrCidr(entry))
        problems.push({
          path: `${path}[${index}]`,
          message: `must be an IP address or CIDR, but it's configured as '${entry}'`,
        });
    });
  const { gateway } = config;
  networks(gateway.trustedNetworks, 'gateway.trustedNetworks');
  const names = new Set<string>();
  gateway.apps.forEach((app, index) => {
    const path = `gateway.apps[${index}]`;
    if (names.has(app.name))
      problems.push({ path: `${path}.name`, message: `must be unique, but '${app.name}' is used twice` });
    names.add(app.name);
    networks(app.trustedNetworks, `${path}.trustedNetworks`);
    if (app.policy !== 'deny' && !app.upstream)
      problems.push({ path: `${path}.upstream`, message: `is required when policy is '${app.policy}'` });
    if (app.upstream && !URL.canParse(app.upstream))
      problems.push({
        path: `${path}.upstream`,
        message: `must be an http(s) URL, but it's configured as '${app.upstream}'`,
      });
    if (app.auth === 'form-intercept' && !app.formIntercept)
      problems.push({ path: `${path}.formIntercept`, message: "is required when auth is 'form-intercept'" });
    app.match.hosts.forEach((host, h) => {
      if (host !== host.toLowerCase() || host.endsWith('.') || /[/\\\s@]/.test(host))
        problems.push({
          path: `${path}.match.hosts[${h}]`,
          message: `must be a lower-case host name without a trailing dot, but it's configured as '${host}'`,
        });
    });
  });
  // The policy refuses what no canonical request could ever match; report it as a config problem.
  if (problems.length === 0) {
    try {
      createAccessPolicy(gateway.apps.map(ruleFromApp), gateway.trustedNetworks);
    } catch (error) {
      problems.push({ path: 'gateway.apps', message: (error as Error).message });
    }
  }
  const idle = gateway.session.idleTimeoutSeconds;
  if (idle > gateway.session.maxAgeSeconds)
    problems.push({
      path: 'gateway.session.idleTimeoutSeconds',
      message: `must not exceed gateway.session.maxAgeSeconds, but it's configured as '${idle}'`,
    });
  config.server.listen.forEach((listener, index) => {
    if (listener.tls && listener.redirectToHttpsPort !== undefined)
      problems.push({
        path: `server.listen[${index}].redirectToHttpsPort`,
        message: 'is only for plain listeners, but this listener has tls',
      });
  });
  return problems;
}

/** Methods users can be offered today; the others need providers that later versions bring. */
const AVAILABLE_METHODS = new Set(['totp', 'push']);

function portalProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { portal } = config;
  const notAbove = (path: string, value: number, limitPath: string, limit: number) => {
    if (value > limit)
      problems.push({
        path,
        message: `must not exceed ${limitPath} (${limit}), but it's configured as '${value}'`,
      });
  };
  portal.trustedNetworks.forEach((entry, index) => {
    if (!parseAddressOrCidr(entry))
      problems.push({
        path: `portal.trustedNetworks[${index}]`,
        message: `must be an IP address or CIDR, but it's configured as '${entry}'`,
      });
  });
  portal.methods.forEach((method, index) => {
    if (!AVAILABLE_METHODS.has(method))
      problems.push({
        path: `portal.methods[${index}]`,
        message: `'${method}' is not available in this version (available: ${[...AVAILABLE_METHODS].join(', ')})`,
      });
  });
  const pushAt = portal.methods.indexOf('push');
  if (pushAt >= 0 && !portal.mobileApp.allow)
    problems.push({
      path: `portal.methods[${pushAt}]`,
      message: "'push' needs the web authenticator: set portal.mobileApp.allow to true",
    });
  const { webPush } = config.mobile;
  if (webPush.enabled) {
    if (!webPush.publicKey)
      problems.push({ path: 'mobile.webPush.publicKey', message: 'is required when webPush is enabled' });
    if (!webPush.privateKey)
      problems.push({ path: 'mobile.webPush.privateKey', message: 'is required when webPush is enabled' });
  }
  notAbove('portal.pin.minLength', portal.pin.minLength, 'portal.pin.maxLength', portal.pin.maxLength);
  notAbove(
    'portal.userBypass.defaultSeconds',
    portal.userBypass.defaultSeconds,
    'portal.userBypass.maxSeconds',
    portal.userBypass.maxSeconds,
  );
  notAbove(
    'portal.session.idleTimeoutSeconds',
    portal.session.idleTimeoutSeconds,
    'portal.session.maxAgeSeconds',
    portal.session.maxAgeSeconds,
  );
  const questions = portal.securityQuestions;
  notAbove(
    'portal.securityQuestions.count',
    questions.count,
    'the number of questions',
    questions.questions.length,
  );
  notAbove(
    'portal.securityQuestions.answersRequired',
    questions.answersRequired,
    'portal.securityQuestions.count',
    questions.count,
  );
  const ids = new Set<string>();
  questions.questions.forEach((question, index) => {
    const path = `portal.securityQuestions.questions[${index}]`;
    if (ids.has(question.id))
      problems.push({ path: `${path}.id`, message: `must be unique, but '${question.id}' is used twice` });
    ids.add(question.id);
    if (!question.text[portal.defaultLanguage])
      problems.push({
        path: `${path}.text`,
        message: `needs a text in portal.defaultLanguage ('${portal.defaultLanguage}')`,
      });
  });
  if (portal.session.cookieName === config.gateway.session.cookieName)
    problems.push({
      path: 'portal.session.cookieName',
      message: 'must differ from gateway.session.cookieName',
    });
  return problems;
}

/** Clients are matched by address, so two with the same address are ambiguous; reply attributes must encode. */
function radiusProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = new Set<string>();
  const addresses = new Set<string>();
  config.radius.clients.forEach((client, index) => {
    const path = `radius.clients[${index}]`;
    if (names.has(client.name))
      problems.push({ path: `${path}.name`, message: `must be unique, but '${client.name}' is used twice` });
    names.add(client.name);
    if (!parseAddressOrCidr(client.address))
      problems.push({
        path: `${path}.address`,
        message: `must be an IP address or CIDR, but it's configured as '${client.address}'`,
      });
    else if (addresses.has(client.address))
      problems.push({
        path: `${path}.address`,
        message: `must be unique, but '${client.address}' is used by two clients`,
      });
    addresses.add(client.address);
    const prompt = Buffer.byteLength(client.challenge.replyMessage, 'utf8');
    if (prompt > 253)
      problems.push({
        path: `${path}.challenge.replyMessage`,
        message: `must be at most 253 bytes (one RADIUS attribute), but it is ${prompt}`,
      });
    if (client.mode === 'auto' && client.append.delimiter === '')
      problems.push({
        path: `${path}.append.delimiter`,
        message: "must not be empty in 'auto' mode: without it a password ending in digits reads as a code",
      });
    client.replyAttributes.forEach((reply, r) => {
      const attributePath = `${path}.replyAttributes[${r}]`;
      const def = findAttribute(reply.attribute);
      if (!def) {
        problems.push({
          path: `${attributePath}.attribute`,
          message: `is not in the dictionary, but it's configured as '${reply.attribute}'`,
        });
        return;
      }
      try {
        encodeValue(def, reply.value);
      } catch (error) {
        problems.push({ path: `${attributePath}.value`, message: (error as Error).message });
      }
    });
  });
  const ports = new Set<string>();
  config.radius.listen.forEach((listener, index) => {
    for (const port of [listener.authPort, listener.accountingPort]) {
      if (port === 0) continue;
      const key = `${listener.host}:${port}`;
      if (ports.has(key)) problems.push({ path: `radius.listen[${index}]`, message: `binds ${key} twice` });
      ports.add(key);
    }
  });
  return problems;
}
