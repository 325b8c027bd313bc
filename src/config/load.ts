// Reads the configuration file: YAML → schema check with defaults → secrets resolved → paths made
// absolute → deep-frozen. Every problem is collected and reported at once.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { Config, DirectoryConfig, StoreConfig } from './schema.ts';
import { resolveSecrets } from './secrets.ts';
import { type ConfigProblem, validateConfig } from './validate.ts';

export const CONFIG_ENV = 'MFA_GATEWAY_CONFIG';

export class ConfigError extends Error {
  readonly file: string;
  readonly problems: ConfigProblem[];
  constructor(file: string, problems: ConfigProblem[]) {
    super(`${file}: ${problems.length} problem(s) in the configuration:\n${formatProblems(problems)}`);
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}

export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
}

/** A node with the directory and the store; the validator guarantees both for `role: internal`. */
export type InternalConfig = Config & { store: StoreConfig; directory: DirectoryConfig };

/** The config of a node that owns the store and the directory, or an error naming what is missing. */
export function requireInternal(config: Readonly<Config>, file = '(config)'): Readonly<InternalConfig> {
  if (config.role === 'internal' && config.store && config.directory) return config as InternalConfig;
  throw new ConfigError(file, [
    {
      path: 'role',
      message:
        config.role === 'edge'
          ? 'is edge: this needs the internal node (run it there, or use the SDK)'
          : 'is internal, which needs the store and directory sections',
    },
  ]);
}

/** The file named by `--config`, else `MFA_GATEWAY_CONFIG`, else an error that says both. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env[CONFIG_ENV];
  if (!chosen) throw new Error(`no configuration file: pass --config FILE or set ${CONFIG_ENV}`);
  return resolve(chosen);
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [
      { path: '(file)', message: `cannot be read (${(error as Error).message})` },
    ]);
  }
  return parseConfig(text, { file, env });
}

export function parseConfig(
  text: string,
  options: { file: string; env?: NodeJS.ProcessEnv },
): Readonly<Config> {
  const { file, env = process.env } = options;
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  const { config, problems } = validateConfig(document.toJS());
  if (!config) throw new ConfigError(file, problems);
  const base = dirname(file);
  const secretProblems = resolveSecrets(config, { env, base });
  secretProblems.push(...weakRadiusSecrets(config));
  if (secretProblems.length > 0) throw new ConfigError(file, secretProblems);
  resolvePaths(config, base);
  return deepFreeze(config);
}

/** Short shared secrets fall to offline guessing from one captured packet; checked once resolved. */
function weakRadiusSecrets(config: Config): ConfigProblem[] {
  return config.radius.clients.flatMap((client, index) =>
    Buffer.byteLength(client.secret, 'utf8') < 16
      ? [
          {
            path: `radius.clients[${index}].secret`,
            message: "must be at least 16 characters long; generate one with 'mfa-gateway secrets generate'",
          },
        ]
      : [],
  );
}

/** Relative paths in the file are relative to the file's own folder, wherever the service is started. */
function resolvePaths(config: Config, base: string): void {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  if (config.store) config.store.sqlite.path = abs(config.store.sqlite.path);
  if (config.directory?.file) config.directory.file.path = abs(config.directory.file.path);
  if (config.directory?.ldap?.caFile) config.directory.ldap.caFile = abs(config.directory.ldap.caFile);
  if (config.edge) {
    const { edge } = config;
    if (edge.caFile) edge.caFile = abs(edge.caFile);
    if (edge.clientCertFile) edge.clientCertFile = abs(edge.clientCertFile);
    if (edge.clientKeyFile) edge.clientKeyFile = abs(edge.clientKeyFile);
  }
  for (const listener of config.server.listen) {
    if (listener.tls) {
      listener.tls.certFile = abs(listener.tls.certFile);
      listener.tls.keyFile = abs(listener.tls.keyFile);
      if (listener.tls.clientCaFile) listener.tls.clientCaFile = abs(listener.tls.clientCaFile);
    }
  }
  if (config.gateway.denialPage) config.gateway.denialPage = abs(config.gateway.denialPage);
}

export function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
