// The composition root: builds every part from the frozen config, wires them by hand, and starts
// the listeners. Nothing else constructs adapters, so what runs is visible here in one place.
import pino, { type Logger } from 'pino';
import { demoSecretProblems } from './config/demo-guard.ts';
import { ConfigError, type InternalConfig, requireInternal } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { systemClock } from './core/clock.ts';
import { type Core, createCore } from './core/create-core.ts';
import type { EdgeCore } from './core/edge-surface.ts';
import { createNetworkList } from './core/policy/networks.ts';
import type { Clock, Directory, Random } from './core/ports.ts';
import { systemRandom } from './core/random.ts';
import { derivePepper } from './core/secrets/secret-hash.ts';
import { createLdapDirectory } from './directory/ldap-directory.ts';
import { createUsersFileDirectory } from './directory/users-file.ts';
import { createRemoteCore } from './edge/remote-core.ts';
import { createSdkClient } from './edge/sdk-client.ts';
import { createGateway } from './gateway/gateway.ts';
import { createHealthProbe, type HealthChecks } from './http/health.ts';
import { buildHttpServer, buildRedirectServer, VERSION } from './http/server.ts';
import { createMobileService } from './mobile/mobile.ts';
import { createPortal } from './portal/portal.ts';
import { providersFromConfig } from './providers/from-config.ts';
import { createAccessHandler } from './radius/access-handler.ts';
import { createChallengeStates } from './radius/challenge-states.ts';
import { createRadiusServer, type RadiusServer } from './radius/radius-server.ts';
import { createReauthCache } from './radius/reauth-cache.ts';
import { createSdk, type Sdk } from './sdk/sdk.ts';
import { createSqlStore, type Store } from './store/create-store.ts';
import { migrateToLatest } from './store/migrate.ts';
import { createSecretBox, parseEncryptionKey } from './store/secret-box.ts';
import { openSqliteDatabase } from './store/sqlite.ts';

const PUSH_RETENTION_MS = 10 * 60_000;

export interface Services {
  config: Readonly<InternalConfig>;
  logger: Logger;
  clock: Clock;
  random: Random;
  store: Store;
  directory: Directory;
  audit: Core['audit'];
  regulator: Core['regulator'];
  sessions: Core['sessions'];
  authenticator: Core['authenticator'];
  userAdmin: Core['userAdmin'];
  importUsers: Core['importUsers'];
  enrollment: Core['enrollment'];
  auditQuery: Core['auditQuery'];
  push: Core['push'];
  pushHub: Core['pushHub'];
  accounts: Core['accounts'];
  sdkAuthentications: Core['sdkAuthentications'];
  close(): Promise<void>;
}

export function createLogger(config: Readonly<Config>, destination?: pino.DestinationStream): Logger {
  return pino({ level: config.log.level, base: { service: 'mfa-gateway' } }, destination);
}

function buildDirectory(config: Readonly<InternalConfig>, clock: Clock, logger: Logger): Directory {
  const { directory } = config;
  if (directory.type === 'ldap' && directory.ldap)
    return createLdapDirectory(directory.ldap, { clock, logger });
  if (directory.type === 'file' && directory.file) return createUsersFileDirectory(directory.file);
  throw new ConfigError('(config)', [
    { path: 'directory', message: `has no settings for type '${directory.type}'` },
  ]);
}

function storeKey(config: Readonly<InternalConfig>): Uint8Array {
  try {
    return parseEncryptionKey(config.store.encryptionKey);
  } catch (error) {
    throw new ConfigError('(config)', [{ path: 'store.encryptionKey', message: (error as Error).message }]);
  }
}

async function openStore(config: Readonly<InternalConfig>, random: Random): Promise<Store> {
  const key = storeKey(config);
  const db = openSqliteDatabase(config.store.sqlite);
  await migrateToLatest(db);
  return createSqlStore(db, { secretBox: createSecretBox(key), random });
}

/** Builds the services every command needs; the caller closes them. */
export async function buildServices(
  anyConfig: Readonly<Config>,
  options: { logger?: Logger; clock?: Clock; random?: Random } = {},
): Promise<Services> {
  const config = requireInternal(anyConfig);
  const logger = options.logger ?? createLogger(config);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const store = await openStore(config, random);
  const directory = buildDirectory(config, clock, logger);
  // Audit lines reach the JSON log whatever the level, so a quiet log still feeds the SIEM.
  const auditLogger =
    logger.level === 'silent' ? logger : logger.child({ component: 'audit' }, { level: 'info' });
  const providers = providersFromConfig(config, logger.child({ component: 'providers' }));
  const { totp, challenge } = config.auth;
  const { portal } = config;
  const questions = portal.securityQuestions;
  const core = createCore(
    {
      directory,
      store,
      auditLogger,
      clock,
      random,
      pepper: derivePepper(storeKey(config)),
      notifier: providers.notifier,
      ...(providers.pushSender ? { pushSender: providers.pushSender } : {}),
      warn: (message, detail) => logger.warn(detail, message),
    },
    {
      auth: {
        requireUserMatch: config.auth.requireUserMatch,
        primaryMinDurationMs: config.auth.primaryMinDurationMs,
        challengeTtlSeconds: challenge.ttlSeconds,
        maxAttempts: challenge.maxAttempts,
        codeWithPush: portal.oathFallback,
      },
      totp,
      regulation: config.regulation,
      enrollment: {
        firstEnrollment: portal.enrollment.firstEnrollment,
        trustedNetworks: portal.trustedNetworks,
        methods: portal.methods,
        pin: portal.pin,
        securityQuestions: {
          count: questions.count,
          // Turned off: no fallback at sign-in, and no answers can be set.
          answersRequired: questions.enabled ? questions.answersRequired : 0,
          questionIds: questions.questions.map((q) => q.id),
        },
        userBypass: portal.userBypass,
        stepUpSeconds: portal.stepUpSeconds,
        mobile: { ...portal.mobileApp, activationTtlSeconds: config.mobile.activationTtlSeconds },
      },
      sessionMaxAgeSeconds: config.gateway.session.maxAgeSeconds,
      push: {
        enabled: portal.mobileApp.allow,
        requestTtlSeconds: config.mobile.requestTtlSeconds,
        requirePin: config.mobile.requirePin,
        fraudBlock: config.mobile.fraud.block,
        deviceProofMaxAgeSeconds: 120,
        recheckMs: config.mobile.storeRecheckMs,
      },
    },
  );
  return {
    config,
    logger,
    clock,
    random,
    store,
    directory,
    ...core,
    async close() {
      core.pushHub.close();
      providers.close();
      await directory.close();
      await store.close();
    },
  };
}

export interface RunningService {
  addresses: string[];
  /** The RADIUS server, when clients are configured. */
  radius: RadiusServer | undefined;
  stop(): Promise<void>;
}

/**
 * What the HTTP adapters run on. An internal node has the core itself; an edge node has the
 * internal node's core through the SDK, and neither directory nor store of its own.
 */
interface NodeParts {
  logger: Logger;
  clock: Clock;
  random: Random;
  core: EdgeCore;
  /** Derives the session cookie keys: the store's key, or `edge.sessionKey`. */
  cookieKeySource: Uint8Array;
  health: HealthChecks;
  sdk: Sdk | undefined;
  radius: RadiusServer | undefined;
  /** Starts the node's background work (store sweeps); returns what stops it. */
  startBackground(): () => void;
  close(): Promise<void>;
}

/** The SDK, unless turned off; its health says what /_mfa/health says. */
function buildSdk(config: Readonly<Config>, services: Services, health: HealthChecks): Sdk | undefined {
  if (!config.sdk.enabled) return undefined;
  const probe = createHealthProbe(health);
  return createSdk({
    core: services,
    clock: services.clock,
    publicUrl: config.server.publicUrl,
    version: VERSION,
    rateLimitPerMinute: config.sdk.rateLimitPerMinute,
    health: async () => (await probe()).status,
  });
}

/** RADIUS runs beside the HTTP listeners when clients are configured. */
function buildRadius(config: Readonly<Config>, services: Services): RadiusServer | undefined {
  if (config.radius.clients.length === 0) return undefined;
  const handler = createAccessHandler({
    authenticator: services.authenticator,
    push: config.portal.mobileApp.allow ? services.push : undefined,
    audit: services.audit,
    clock: services.clock,
    states: createChallengeStates({ max: 100_000, clock: services.clock }),
    reauth: createReauthCache({ max: 100_000, clock: services.clock }),
    totpDigits: config.auth.totp.digits,
  });
  return createRadiusServer({ config: config.radius, handler, logger: services.logger });
}

async function internalNode(config: Readonly<Config>, options: { logger?: Logger }): Promise<NodeParts> {
  const services = await buildServices(config, options);
  const { store, clock } = services;
  const health: HealthChecks = { store: () => store.ping(), directory: () => services.directory.ping() };
  return {
    logger: services.logger,
    clock,
    random: services.random,
    core: services,
    cookieKeySource: storeKey(services.config),
    health,
    sdk: buildSdk(config, services, health),
    radius: buildRadius(config, services),
    startBackground() {
      // Expired challenges, bypasses, revocations and enrollment windows are swept so the tables
      // stay small; the timer must not keep the process alive.
      const sweeper = setInterval(() => {
        const now = clock.now();
        Promise.all([
          store.deleteExpiredChallenges(now),
          store.deleteExpiredBypasses(now),
          store.deleteExpiredRevocations(now),
          store.deleteExpiredEnrollmentWindows(now),
          store.deleteExpiredActivationCodes(now),
          store.deleteExpiredSdkAuthentications(now),
          // Answered and expired pushes stay a while, so a page that was waiting still learns the outcome.
          store.deleteOldPushRequests(now - PUSH_RETENTION_MS),
        ]).catch((error: unknown) => services.logger.warn({ err: error }, 'store sweep failed'));
      }, 60_000);
      sweeper.unref();
      return () => clearInterval(sweeper);
    },
    close: () => services.close(),
  };
}

function edgeKey(config: Readonly<Config>): Uint8Array {
  try {
    return parseEncryptionKey(config.edge?.sessionKey ?? '');
  } catch (error) {
    throw new ConfigError('(config)', [{ path: 'edge.sessionKey', message: (error as Error).message }]);
  }
}

/** An edge node: the internal node's core through its SDK; the internal node keeps users and decisions. */
function edgeNode(config: Readonly<Config>, options: { logger?: Logger }): NodeParts {
  const edge = config.edge;
  if (config.role !== 'edge' || !edge)
    throw new ConfigError('(config)', [{ path: 'edge', message: "is required when role is 'edge'" }]);
  const logger = options.logger ?? createLogger(config);
  const cookieKeySource = edgeKey(config);
  const client = createSdkClient(edge);
  // The internal node's verdict is this node's: unreachable or failing is a store outage here.
  const health: HealthChecks = {
    store: async () => {
      if ((await client.health()) === 'failing') throw new Error('the internal node is failing');
    },
    directory: async () => {
      if ((await client.health()) !== 'ok') throw new Error('the internal node has no directory');
    },
  };
  return {
    logger,
    clock: systemClock,
    random: systemRandom,
    core: createRemoteCore(client),
    cookieKeySource,
    health,
    sdk: undefined,
    radius: undefined,
    startBackground: () => () => {},
    close: () => client.close(),
  };
}

/** Starts the service: refuses demo secrets off loopback, opens the store, binds the listeners. */
export async function startService(
  config: Readonly<Config>,
  options: { logger?: Logger } = {},
): Promise<RunningService> {
  const demoProblems = demoSecretProblems(config);
  if (demoProblems.length > 0) throw new ConfigError('(config)', demoProblems);
  const node = config.role === 'edge' ? edgeNode(config, options) : await internalNode(config, options);
  const { logger, clock, core, radius } = node;
  const gateway = await createGateway({
    config,
    authenticator: core.authenticator,
    sessions: core.sessions,
    audit: core.audit,
    clock,
    random: node.random,
    logger,
    cookieKeySource: node.cookieKeySource,
    push: core.push,
  });
  const portal = await createPortal({
    config,
    core,
    clock,
    random: node.random,
    cookieKeySource: node.cookieKeySource,
  });
  const mobile = config.portal.mobileApp.allow
    ? createMobileService({
        core: { push: core.push, enrollment: core.enrollment },
        vapidPublicKey: config.mobile.webPush.enabled ? config.mobile.webPush.publicKey : undefined,
        rateLimitPerMinute: config.portal.rateLimitPerMinute,
      })
    : undefined;
  const trustedProxies = createNetworkList(config.server.trustedProxies);
  // One fastify instance per listener: an instance listens once, and each has its own TLS.
  const bound = await Promise.all(
    config.server.listen.map(async (listener) => ({
      listener,
      server:
        listener.redirectToHttpsPort !== undefined
          ? buildRedirectServer(logger, listener.redirectToHttpsPort)
          : await buildHttpServer({
              health: node.health,
              logger,
              trustedProxies,
              portal,
              ...(mobile ? { mobile } : {}),
              ...(node.sdk ? { sdk: node.sdk } : {}),
              gateway,
              ...(listener.tls ? { tls: listener.tls } : {}),
            }),
    })),
  );
  const closeAll = async () => {
    await Promise.all([...bound.map(({ server }) => server.close()), radius?.close()]);
    gateway.close();
  };
  const addresses: string[] = [];
  try {
    for (const { listener, server } of bound) {
      addresses.push(await server.listen({ host: listener.host, port: listener.port }));
    }
    if (radius) addresses.push(...(await radius.listen()));
  } catch (error) {
    await closeAll();
    await node.close();
    throw error;
  }
  const stopBackground = node.startBackground();
  logger.info({ addresses, role: config.role }, 'mfa-gateway started');
  return {
    addresses,
    radius,
    async stop() {
      stopBackground();
      await closeAll();
      await node.close();
    },
  };
}
