// Our RADIUS server under test (bench/radius.bench.ts): the real service (startService from src/main.ts)
// with a throwaway config and store, the LDAP directory of the benchmark's slapd, log level silent,
// primaryMinDurationMs 0 and a lenient lockout (every password of the load is right, but a lockout
// must never turn the load into rejects). Two modes:
//
//   throughput  two RADIUS clients, told apart by source address like two NASes:
//                 pap        127.0.0.1  requireUserMatch primary-only; its users are NOT in the store,
//                                       so each request is PAP + LDAP search and bind + an Access-Accept
//                 challenge  127.0.0.2  mode challenge; its users are imported from `--import-base` and
//                                       enrolled with TOTP, so each first request ends in an Access-Challenge
//   pending     one out-of-band client on 127.0.0.1 and the mobile service on: the users under
//               `--import-base` are imported, each with an activated phone whose public key comes from
//               `--keys` (the parent plays the phones and signs their answers).
//
// Besides the common messages of child.ts (usage, profiles), the parent may ask for `status` (requests
// in flight in the RADIUS server, pending and total push requests in the store), `in-flight` (the
// first alone, without touching the store), `memory` (after a
// full GC: needs --expose-gc), `pending-list` (what a phone needs to answer each pending request) and
// `heap-snapshot` (written to the given file).
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import pino from 'pino';
import { loadConfig, requireInternal } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { JsonWebKeyP256 } from '../../src/core/ports.ts';
import { buildServices, type RunningService, startService } from '../../src/main.ts';
import { openSqliteDatabase } from '../../src/store/sqlite.ts';
import { announce, type ParentMessage, stopOnSignal } from './child.ts';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'throughput' },
    dir: { type: 'string' },
    'ldap-url': { type: 'string' },
    'bind-dn': { type: 'string' },
    'bind-password': { type: 'string' },
    'base-dn': { type: 'string' },
    'import-base': { type: 'string' },
    secret: { type: 'string' },
    'totp-seed': { type: 'string' },
    keys: { type: 'string' },
    'wait-seconds': { type: 'string', default: '300' },
  },
});

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new Error(`radius-gateway: --${name} is required`);
  return value;
}

const mode = values.mode;
if (mode !== 'throughput' && mode !== 'pending') throw new Error(`radius-gateway: unknown --mode ${mode}`);
// The parent owns the folder and removes it, so nothing is left even when this child is killed.
const dir = required('dir');
const secret = required('secret');
const importBase = required('import-base');
const q = (text: string) => `'${text.replaceAll("'", "''")}'`;

let service: RunningService | undefined;
let db: ReturnType<typeof openSqliteDatabase> | undefined;
stopOnSignal(async () => {
  try {
    await service?.stop();
  } finally {
    await db?.destroy();
  }
});

/** A port the OS picks (TCP or UDP); the config schema wants a number, so it is taken just before binding. */
function osPort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const socket = dgram.createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        const { port } = socket.address();
        socket.close(() => resolve(port));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const storeKey = randomBytes(32).toString('base64');

function clientsYaml(): string {
  if (mode === 'pending')
    return `    - name: nas
      address: 127.0.0.1
      secret: ${q(secret)}
      mode: out-of-band
      application: VPN
      outOfBandWaitSeconds: ${Number(values['wait-seconds'])}
`;
  return `    - name: pap
      address: 127.0.0.1
      secret: ${q(secret)}
      mode: challenge
      requireUserMatch: primary-only
    - name: challenge
      address: 127.0.0.2
      secret: ${q(secret)}
      mode: challenge
`;
}

function writeConfig(httpPort: number, radiusPort: number): string {
  const file = join(dir, 'config.yaml');
  const mobile =
    mode === 'pending'
      ? `portal:
  methods: [push, totp]
  mobileApp: { allow: true }
  rateLimitPerMinute: 100000000
mobile:
  requestTtlSeconds: 600
`
      : '';
  writeFileSync(
    file,
    `server:
  listen: [{ host: 127.0.0.1, port: ${httpPort} }]
  publicUrl: http://127.0.0.1:${httpPort}
store:
  sqlite: { path: data/mfa.db }
  encryptionKey: ${storeKey}
directory:
  type: ldap
  ldap:
    servers: [${q(required('ldap-url'))}]
    bindDn: ${q(required('bind-dn'))}
    bindPassword: ${q(required('bind-password'))}
    baseDn: ${q(required('base-dn'))}
    usernameAttribute: sAMAccountName
auth:
  primaryMinDurationMs: 0
regulation:
  user: { maxFailures: 1000000 }
  address: { maxFailures: 1000000 }
${mobile}log:
  level: silent
radius:
  listen: [{ host: 127.0.0.1, authPort: ${radiusPort}, accountingPort: 0 }]
  clients:
${clientsYaml()}`,
  );
  return file;
}

const silent = () => pino({ level: 'silent' });
const admin = { actor: 'bench', channel: 'cli' as const, clientAddress: 'local' };
/** Pending mode: each user's device id, by user id (a phone signs with its device id as `kid`). */
const deviceOf = new Map<string, string>();

/** Imports the users under `--import-base`; enrols TOTP (throughput) or activates a phone (pending). */
async function setUp(config: Readonly<Config>): Promise<Record<string, number>> {
  const started = performance.now();
  const services = await buildServices(config, { logger: silent() });
  try {
    const imported = await services.importUsers({ baseDn: importBase }, admin, { allowEmpty: true });
    const users = await services.store.listUsers({});
    if (mode === 'throughput') {
      const seed = required('totp-seed');
      for (const user of users) await services.userAdmin.enrollTotp(user.username, admin, 'bench', seed);
    } else {
      // Public keys in the order of the user names' numbers (push00000, push00001 ...).
      const keys = JSON.parse(readFileSync(required('keys'), 'utf8')) as Array<{ x: string; y: string }>;
      const now = Date.now();
      for (const user of users) {
        const index = Number(/(\d+)$/.exec(user.username)?.[1]);
        const key = keys[index];
        if (!key) throw new Error(`radius-gateway: no public key for ${user.username}`);
        const publicKey: JsonWebKeyP256 = { kty: 'EC', crv: 'P-256', x: key.x, y: key.y };
        const device = await services.store.addMobileDevice(
          { userId: user.id, name: 'phone', publicKey, createdAt: now },
          {
            label: 'Mobile app: phone',
            secret: randomBytes(20),
            params: { algorithm: 'sha1', digits: 6, period: 30 },
          },
        );
        await services.store.updateUser(user.id, { defaultMethod: 'push' }, now);
        deviceOf.set(user.id, device.id);
      }
    }
    return { users: imported.added, setupMs: Math.round(performance.now() - started) };
  } finally {
    await services.close();
  }
}

let config: Readonly<Config> | undefined;
let setup: Record<string, number> = {};
let httpPort = 0;
let radiusPort = 0;
for (let attempt = 1; !service; attempt++) {
  httpPort = await osPort('tcp');
  radiusPort = await osPort('udp');
  config = loadConfig(writeConfig(httpPort, radiusPort));
  if (attempt === 1) setup = await setUp(config);
  try {
    service = await startService(config, { logger: silent() });
  } catch (error) {
    // Someone took a port between the probe and the bind: take others.
    if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt >= 5) throw error;
  }
}
const running = service;
if (!config) throw new Error('radius-gateway: no config');
const storeConfig = requireInternal(config).store.sqlite;

/** The store seen from beside the service (a second connection; WAL lets it read while the service writes). */
function store() {
  db ??= openSqliteDatabase(storeConfig);
  return db;
}

async function status(): Promise<Record<string, unknown>> {
  const count = async (pendingOnly: boolean) => {
    let query = store()
      .selectFrom('push_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'));
    if (pendingOnly) query = query.where('state', '=', 'pending');
    return Number((await query.executeTakeFirst())?.n ?? 0);
  };
  return { inFlight: running.radius?.inFlight ?? 0, pending: await count(true), total: await count(false) };
}

async function pendingList(): Promise<Record<string, unknown>> {
  const rows = await store()
    .selectFrom('push_requests')
    .select(['id', 'user_id', 'username', 'nonce'])
    .where('state', '=', 'pending')
    .execute();
  return {
    requests: rows.map((row) => ({
      id: row.id,
      username: row.username,
      nonce: row.nonce,
      deviceId: deviceOf.get(row.user_id) ?? null,
    })),
  };
}

function memory(): Record<string, unknown> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') throw new Error('memory needs node --expose-gc');
  // Twice: the first run may leave finalizers whose objects only the second one frees.
  gc();
  gc();
  const { heapUsed, rss, external, arrayBuffers } = process.memoryUsage();
  return { heapUsed, rss, external, arrayBuffers };
}

type Message = {
  type: 'status' | 'in-flight' | 'memory' | 'pending-list' | 'heap-snapshot';
  id: number;
  file?: string;
};

announce({ port: radiusPort, httpPort, ...setup }, async (message: ParentMessage) => {
  const asked = message as unknown as Message;
  switch (asked.type) {
    case 'status':
      return status();
    case 'in-flight':
      return { inFlight: running.radius?.inFlight ?? 0 };
    case 'memory':
      return memory();
    case 'pending-list':
      return pendingList();
    case 'heap-snapshot':
      if (!asked.file) throw new Error('heap-snapshot needs a file');
      return { file: writeHeapSnapshot(asked.file) };
    default:
      throw new Error(`unknown message ${JSON.stringify(message)}`);
  }
});
