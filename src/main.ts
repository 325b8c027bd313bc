// The composition root: builds every part from the frozen config, wires them by hand, and starts
// the listeners. Nothing else constructs adapters, so what runs is visible here in one place.
import pino, { type Logger } from 'pino';
import { demoSecretProblems } from './config/demo-guard.ts';
import { ConfigError } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { systemClock } from './core/clock.ts';
import { type Core, createCore } from './core/create-core.ts';
import type { Clock, Directory, Random } from './core/ports.ts';
import { systemRandom } from './core/random.ts';
import { createLdapDirectory } from './directory/ldap-directory.ts';
import { createUsersFileDirectory } from './directory/users-file.ts';
import { buildHttpServer } from './http/server.ts';
import { createSqlStore, type Store } from './store/create-store.ts';
import { migrateToLatest } from './store/migrate.ts';
import { createSecretBox, parseEncryptionKey } from './store/secret-box.ts';
import { openSqliteDatabase } from './store/sqlite.ts';

export interface Services {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  random: Random;
  store: Store;
  directory: Directory;
  regulator: Core['regulator'];
  sessions: Core['sessions'];
  authenticator: Core['authenticator'];
  userAdmin: Core['userAdmin'];
  importUsers: Core['importUsers'];
  close(): Promise<void>;
}

export function createLogger(config: Readonly<Config>, destination?: pino.DestinationStream): Logger {
  return pino({ level: config.log.level, base: { service: 'mfa-gateway' } }, destination);
}

function buildDirectory(config: Readonly<Config>, clock: Clock, logger: Logger): Directory {
  const { directory } = config;
  if (directory.type === 'ldap' && directory.ldap)
    return createLdapDirectory(directory.ldap, { clock, logger });
  if (directory.type === 'file' && directory.file) return createUsersFileDirectory(directory.file);
  throw new ConfigError('(config)', [
    { path: 'directory', message: `has no settings for type '${directory.type}'` },
  ]);
}

async function openStore(config: Readonly<Config>, random: Random): Promise<Store> {
  let key: Uint8Array;
  try {
    key = parseEncryptionKey(config.store.encryptionKey);
  } catch (error) {
    throw new ConfigError('(config)', [{ path: 'store.encryptionKey', message: (error as Error).message }]);
  }
  const db = openSqliteDatabase(config.store.sqlite);
  await migrateToLatest(db);
  return createSqlStore(db, { secretBox: createSecretBox(key), random });
}

/** Builds the services every command needs; the caller closes them. */
export async function buildServices(
  config: Readonly<Config>,
  options: { logger?: Logger; clock?: Clock; random?: Random } = {},
): Promise<Services> {
  const logger = options.logger ?? createLogger(config);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const store = await openStore(config, random);
  const directory = buildDirectory(config, clock, logger);
  // Audit lines reach the JSON log whatever the level, so a quiet log still feeds the SIEM.
  const auditLogger =
    logger.level === 'silent' ? logger : logger.child({ component: 'audit' }, { level: 'info' });
  const { totp, challenge } = config.auth;
  const { regulator, sessions, authenticator, userAdmin, importUsers } = createCore(
    { directory, store, auditLogger, clock, random },
    {
      auth: {
        requireUserMatch: config.auth.requireUserMatch,
        primaryMinDurationMs: config.auth.primaryMinDurationMs,
        challengeTtlSeconds: challenge.ttlSeconds,
        maxAttempts: challenge.maxAttempts,
      },
      totp,
      regulation: config.regulation,
      sessionMaxAgeSeconds: config.gateway.session.maxAgeSeconds,
    },
  );
  return {
    config,
    logger,
    clock,
    random,
    store,
    directory,
    regulator,
    sessions,
    authenticator,
    userAdmin,
    importUsers,
    async close() {
      await directory.close();
      await store.close();
    },
  };
}

export interface RunningService {
  addresses: string[];
  stop(): Promise<void>;
}

/** Starts the service: refuses demo secrets off loopback, opens the store, binds the listeners. */
export async function startService(
  config: Readonly<Config>,
  options: { logger?: Logger } = {},
): Promise<RunningService> {
  const demoProblems = demoSecretProblems(config);
  if (demoProblems.length > 0) throw new ConfigError('(config)', demoProblems);
  const services = await buildServices(config, options);
  const { logger, store, clock } = services;
  // One fastify instance per listener: an instance listens once, and each may get its own TLS later.
  const bound = config.server.listen.map((listener) => ({
    listener,
    server: buildHttpServer({ services, logger }),
  }));
  const closeAll = () => Promise.all(bound.map(({ server }) => server.close()));
  const addresses: string[] = [];
  try {
    for (const { listener, server } of bound) {
      addresses.push(await server.listen({ host: listener.host, port: listener.port }));
    }
  } catch (error) {
    await closeAll();
    await services.close();
    throw error;
  }
  // Expired challenges are swept so the table stays small; the timer must not keep the process alive.
  const sweeper = setInterval(() => {
    store
      .deleteExpiredChallenges(clock.now())
      .catch((error: unknown) => logger.warn({ err: error }, 'challenge sweep failed'));
  }, 60_000);
  sweeper.unref();
  logger.info({ addresses }, 'mfa-gateway started');
  return {
    addresses,
    async stop() {
      clearInterval(sweeper);
      await closeAll();
      await services.close();
    },
  };
}
