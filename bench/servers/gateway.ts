// The gateway under test: the real service (startService from src/main.ts) on 127.0.0.1 with a
// throwaway config and store, one two_factor form app in front of the benchmark upstream, log level
// silent, primaryMinDurationMs 0. The store key is random per run; this child mints level-2 session
// cookies with that same key (the gateway's own cookie code), so the load carries a cookie the
// gateway accepts through its whole check: canonical request, policy, session, identity headers.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { systemClock } from '../../src/core/clock.ts';
import { systemRandom } from '../../src/core/random.ts';
import { hashPassword } from '../../src/core/secrets/password-hash.ts';
import { createSessionCookies, importSessionKey } from '../../src/http/session-cookie.ts';
import { buildServices, type RunningService, startService } from '../../src/main.ts';
import { parseEncryptionKey } from '../../src/store/secret-box.ts';
import { announce, stopOnSignal } from './child.ts';

const { values } = parseArgs({ options: { upstream: { type: 'string' }, dir: { type: 'string' } } });
const upstream = values.upstream;
if (!upstream) throw new Error('gateway: --upstream http://127.0.0.1:PORT is required');

const BENCH_USER = {
  username: 'alice',
  password: 'alice-pw',
  groups: ['staff', 'vpn-users'],
  email: 'alice@example.test',
  displayName: 'Alice Example',
  seed: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
};

// The parent passes a folder it removes itself (so nothing is left even if this child is killed).
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'mfa-bench-'));
const storeKey = randomBytes(32).toString('base64');
let service: RunningService | undefined;

stopOnSignal(async () => {
  try {
    await service?.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A port the OS picks; the config schema wants a number, so it is taken just before binding. */
function osPort(): Promise<number> {
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

function writeConfig(port: number): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `server:
  listen: [{ host: 127.0.0.1, port: ${port} }]
  publicUrl: http://127.0.0.1:${port}
store:
  sqlite: { path: data/mfa.db }
  encryptionKey: ${storeKey}
directory:
  type: file
  file: { path: users.yaml }
auth:
  primaryMinDurationMs: 0
gateway:
  apps:
    - name: bench-app
      match: { pathPrefix: / }
      upstream: ${upstream}
      policy: two_factor
      auth: form
log:
  level: silent
`,
  );
  return file;
}

const u = BENCH_USER;
writeFileSync(
  join(dir, 'users.yaml'),
  `users:
  - username: ${u.username}
    passwordHash: "${await hashPassword(u.password, { ln: 10, r: 8, p: 1 })}"
    groups: [${u.groups.join(', ')}]
    email: ${u.email}
    displayName: ${u.displayName}
`,
);

const silent = () => pino({ level: 'silent' });
let config: Readonly<Config> | undefined;
for (let attempt = 1; !service; attempt++) {
  const port = await osPort();
  config = loadConfig(writeConfig(port));
  if (attempt === 1) {
    // The user in the store with a TOTP seed, as after enrolment (only needed to sign in by hand).
    const services = await buildServices(config, { logger: silent() });
    const admin = { actor: 'bench', channel: 'cli' as const, clientAddress: 'local' };
    try {
      await services.importUsers({}, admin, { allowEmpty: false });
      await services.userAdmin.enrollTotp(u.username, admin, 'bench', u.seed);
    } finally {
      await services.close();
    }
  }
  try {
    service = await startService(config, { logger: silent() });
  } catch (error) {
    // Someone took the port between the probe and the bind: take another one.
    if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt >= 5) throw error;
  }
}
if (!config) throw new Error('gateway: no config');
const port = config.server.listen[0]?.port ?? 0;

const cookies = createSessionCookies({
  key: await importSessionKey(parseEncryptionKey(storeKey)),
  clock: systemClock,
  random: systemRandom,
  // Only verify() and revoke() consult it; minting does not.
  revocation: { isRevoked: async () => false, revokeSession: async () => undefined },
  settings: config.gateway.session,
});
const cookieName = cookies.cookieName(false);

/**
 * A level-2 session for the bench user on this host. `ageSeconds` 0: fresh (lastSeen = now, so the
 * gateway does not re-issue it for a minute); more: a cookie last refreshed that long ago, as sent
 * by a client that does not store the re-issued cookie.
 */
async function mint(ageSeconds = 0): Promise<string> {
  const at = systemClock.now() - ageSeconds * 1000;
  const session = {
    ...cookies.create({
      username: u.username,
      host: `127.0.0.1:${port}`,
      level: 2,
      secondFactorAt: at,
      groups: u.groups,
      email: u.email,
      name: u.displayName,
      via: 'totp',
      issuedAt: at,
    }),
    lastSeen: at,
  };
  return `${cookieName}=${await cookies.encode(session)}`;
}

announce({ port, user: u.username }, async (message) => {
  if (message.type === 'mint') return { cookie: await mint(message.ageSeconds) };
  throw new Error(`unknown message ${JSON.stringify(message)}`);
});
