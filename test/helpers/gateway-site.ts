// A whole mfa-gateway, started in-process on a loopback port with a throwaway store and users file,
// in front of the recording upstream. Users get known seeds; codes come from oathtool (an
// independent TOTP implementation), each for a time step not yet used by that user.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { hashPassword } from '../../src/core/secrets/password-hash.ts';
import { buildServices, type RunningService, startService } from '../../src/main.ts';
import { freePort, TEST_KEY } from './cli.ts';

const FAST = { ln: 10, r: 8, p: 1 };

export interface SiteUser {
  username: string;
  password: string;
  groups?: string[];
  email?: string;
  displayName?: string;
  /** Base32 seed; none = a user in the store without a second factor. */
  seed?: string;
}

export const SEEDS = {
  alice: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  bob: 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU',
  dave: 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U',
  erin: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
  frank: 'ONSWG4TFORZWK3DFMN2GK43UONSWG4TF',
  grace: 'MNXWIZLTMVRXEZLUMNXWIZLTMVRXEZLU',
} as const;

export const DEFAULT_USERS: SiteUser[] = [
  {
    username: 'alice',
    password: 'alice-pw',
    groups: ['staff', 'vpn-users'],
    email: 'alice@example.test',
    displayName: 'Alice Example',
    seed: SEEDS.alice,
  },
  { username: 'bob', password: 'bob-pw', groups: ['staff'], seed: SEEDS.bob },
  { username: 'dave', password: 'dave-pw', groups: ['contractors'], seed: SEEDS.dave },
  { username: 'erin', password: 'erin-pw', groups: ['staff'], seed: SEEDS.erin },
  { username: 'frank', password: 'frank-pw', groups: ['staff'], seed: SEEDS.frank },
  { username: 'grace', password: 'grace-pw', groups: ['staff'], seed: SEEDS.grace },
  { username: 'carol', password: 'carol-pw', groups: ['staff'] },
];

/** A TOTP code from oathtool for `seed` at the time step `step`. */
export function oathtoolCode(seed: string, step: number): string {
  const at = new Date(step * 30_000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return execFileSync('oathtool', ['--totp', '--base32', `--now=${at}`, seed], { encoding: 'utf8' }).trim();
}

export interface GatewaySite {
  url: string;
  port: number;
  dir: string;
  service: RunningService;
  /** The next unused code of a user (the current step, or the next one within the ±1 window). */
  code(username: string): string;
  stop(): Promise<void>;
}

export async function startGatewaySite(options: {
  /** YAML of `gateway.apps`, indented as a list under `apps:` (two spaces). */
  apps: string;
  gatewayExtra?: string;
  serverExtra?: string;
  /** YAML lines under `portal:` (two-space indent), e.g. `  admins: [{ group: staff, permissions: [audit] }]`. */
  portalExtra?: string;
  /** YAML lines under `regulation:` replacing the lenient test limits. */
  regulation?: string;
  /** Whole top-level sections (`mobile:`, `notifications:`), as YAML at column 0. */
  sections?: string;
  users?: SiteUser[];
  /** Replaces the one plain listener: `(port) => yaml list` and the public URL's scheme. */
  listen?: (port: number) => string;
  publicScheme?: 'http' | 'https';
}): Promise<GatewaySite> {
  const users = options.users ?? DEFAULT_USERS;
  const dir = mkdtempSync(join(tmpdir(), 'mfa-gw-'));
  const port = await freePort();
  const entries = await Promise.all(
    users.map(
      async (u) => `  - username: ${u.username}
    passwordHash: "${await hashPassword(u.password, FAST)}"
    groups: [${(u.groups ?? []).join(', ')}]${u.email ? `\n    email: ${u.email}` : ''}${
      u.displayName ? `\n    displayName: ${u.displayName}` : ''
    }`,
    ),
  );
  writeFileSync(join(dir, 'users.yaml'), `users:\n${entries.join('\n')}\n`);
  const configFile = join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    `server:
  listen: ${options.listen ? options.listen(port) : `[{ host: 127.0.0.1, port: ${port} }]`}
  publicUrl: ${options.publicScheme ?? 'http'}://127.0.0.1:${port}
${options.serverExtra ?? ''}
store:
  sqlite: { path: data/mfa.db }
  encryptionKey: ${TEST_KEY}
directory:
  type: file
  file: { path: users.yaml }
auth:
  primaryMinDurationMs: 0
regulation:
${options.regulation ?? '  user: { maxFailures: 50 }\n  address: { maxFailures: 200 }'}
portal:
${options.portalExtra?.includes('rateLimitPerMinute') ? '' : '  rateLimitPerMinute: 1000'}
${options.portalExtra ?? ''}
gateway:
${options.gatewayExtra ?? ''}
  apps:
${options.apps}
log:
  level: silent
${options.sections ?? ''}
`,
  );
  const config = loadConfig(configFile);
  const admin = { actor: 'test', channel: 'cli' as const, clientAddress: 'local' };
  const services = await buildServices(config, { logger: pino({ level: 'silent' }) });
  try {
    await services.importUsers({}, admin, { allowEmpty: false });
    for (const u of users) {
      if (u.seed) await services.userAdmin.enrollTotp(u.username, admin, 'test', u.seed);
    }
  } finally {
    await services.close();
  }
  const service = await startService(config, { logger: pino({ level: 'silent' }) });
  const lastStep = new Map<string, number>();
  return {
    url: `${options.publicScheme ?? 'http'}://127.0.0.1:${port}`,
    port,
    dir,
    service,
    code(username) {
      const seed = users.find((u) => u.username === username)?.seed;
      if (!seed) throw new Error(`${username} has no seed`);
      const now = Math.floor(Date.now() / 30_000);
      const step = Math.max(now, (lastStep.get(username) ?? now - 1) + 1);
      if (step > now + 1) throw new Error(`${username}: no unused code left in the window; use another user`);
      lastStep.set(username, step);
      return oathtoolCode(seed, step);
    },
    async stop() {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Cookie jar for fetch: keeps name=value pairs from Set-Cookie answers. */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

/** fetch on the site that keeps cookies in the jar and never follows redirects. */
export function browse(site: GatewaySite, jar: CookieJar) {
  return async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${site.url}${path}`, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
    });
    jar.store(response);
    return response;
  };
}

/** Signs in through the gateway's forms with fetch; returns the jar holding the session. */
export async function signIn(
  site: GatewaySite,
  username: string,
  password: string,
  options: { rd?: string; jar?: CookieJar; code?: string | false } = {},
): Promise<{ jar: CookieJar; final: Response }> {
  const jar = options.jar ?? new CookieJar();
  const go = browse(site, jar);
  const page = await go(`/_mfa/login?rd=${encodeURIComponent(options.rd ?? '/')}`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
  });
  let final = await go('/_mfa/login', form({ username, password, rd: options.rd ?? '/' }));
  if (final.status === 303 && final.headers.get('location') === '/_mfa/login' && options.code !== false) {
    await (await go('/_mfa/login')).text();
    final = await go('/_mfa/login/code', form({ code: options.code ?? site.code(username) }));
  }
  return { jar, final };
}
