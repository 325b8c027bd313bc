// Test helper: runs a real OpenLDAP slapd (Debian's /usr/sbin/slapd) on 127.0.0.1 in a throw-away folder,
// loaded with test/fixtures/ldap/directory.ldif, and lets a test pause and resume it on the same port.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createTestCa } from './pki.ts';

const run = promisify(execFile);

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/ldap');
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 5;

export const BASE_DN = 'dc=example,dc=test';
export const ADMIN_DN = `cn=admin,${BASE_DN}`;
export const ADMIN_PASSWORD = 'admin-secret';
export const SERVICE_DN = `cn=svc-mfa,ou=Service,${BASE_DN}`;
export const SERVICE_PASSWORD = 'svc-secret-0';

/** The users of the default LDIF and their passwords (see the fixture's header). */
export const TEST_USERS = {
  alice: { dn: `cn=Alice Adams,ou=Users,${BASE_DN}`, password: 'Alice-pass-1' },
  bob: { dn: `cn=Bob Brown,ou=Users,${BASE_DN}`, password: 'Bob-pass-2' },
  carol: { dn: `cn=Carol Clark,ou=Users,${BASE_DN}`, password: 'Carol-pass-3' },
  dave: { dn: `cn=Dave Davis,ou=Users,${BASE_DN}`, password: 'Dave-pass-4' },
  eve: { dn: `cn=Eve Evans,ou=Users,${BASE_DN}`, password: 'Eve-pass-5' },
} as const;

export interface SlapdTls {
  /** `ldaps://127.0.0.1:<port>/`; the plain `url` also offers StartTLS. */
  ldapsUrl: string;
  /** PEM of the throw-away CA that signed the server certificate (SAN: 127.0.0.1 and localhost). */
  caFile: string;
}

export interface SlapdHandle {
  /** `ldap://127.0.0.1:<port>/`, stable across pause/resume. */
  url: string;
  port: number;
  baseDn: string;
  adminDn: string;
  adminPassword: string;
  serviceDn: string;
  servicePassword: string;
  /** The running slapd's process id; undefined while paused or stopped. */
  readonly pid: number | undefined;
  /** Present when started with `tls: true`. */
  tls: SlapdTls | undefined;
  /**
   * slapd's `stats` log (connections, binds, searches) of every run so far, up to the present: a probe
   * connection is opened and the log is read until its ACCEPT line, so every operation a client has seen
   * answered is in it. The ACCEPT lines of the helper's own probe connections are left out.
   */
  settledLog(): Promise<string>;
  /** How many client connections slapd has accepted so far (probes excluded). */
  acceptedConnections(): Promise<number>;
  /** Stops slapd and keeps its data, as an outage would. */
  pause(): Promise<void>;
  /** Starts slapd again on the same port with the same data. */
  resume(): Promise<void>;
  /** Stops slapd and removes its folder. */
  stop(): Promise<void>;
}

export interface SlapdOptions {
  /** LDIF text to load instead of test/fixtures/ldap/directory.ldif. */
  ldif?: string;
  /** Also listen on ldaps:// and offer StartTLS, with a throw-away CA. */
  tls?: boolean;
  /** slapd's `idletimeout`: it closes client connections idle for this long (seconds). */
  idleTimeoutSeconds?: number;
}

export async function startSlapd(options: SlapdOptions = {}): Promise<SlapdHandle> {
  const folder = await mkdtemp(path.join(tmpdir(), 'mfa-slapd-'));
  try {
    await mkdir(path.join(folder, 'data'));
    const tls = options.tls ? await createCertificates(folder) : undefined;
    const configFile = path.join(folder, 'slapd.conf');
    await writeFile(configFile, slapdConfig(folder, tls, options.idleTimeoutSeconds));
    const ldif = options.ldif ?? (await readFile(path.join(FIXTURES, 'directory.ldif'), 'utf8'));
    await writeFile(path.join(folder, 'directory.ldif'), ldif);
    await run(SLAPADD, ['-q', '-f', configFile, '-l', path.join(folder, 'directory.ldif')]);
    const server = new SlapdProcess(configFile);
    await server.startOnFreePorts(Boolean(tls));
    return handleFor(server, folder, tls);
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

function handleFor(server: SlapdProcess, folder: string, certs: Certificates | undefined): SlapdHandle {
  const port = server.port;
  return {
    url: `ldap://127.0.0.1:${port}/`,
    port,
    baseDn: BASE_DN,
    adminDn: ADMIN_DN,
    adminPassword: ADMIN_PASSWORD,
    serviceDn: SERVICE_DN,
    servicePassword: SERVICE_PASSWORD,
    get pid() {
      return server.pid;
    },
    tls: certs && { ldapsUrl: `ldaps://127.0.0.1:${server.tlsPort}/`, caFile: certs.caFile },
    settledLog: () => server.settledLog(),
    acceptedConnections: async () => countMatches(await server.settledLog(), /\bACCEPT from IP=/g),
    pause: () => server.stop(),
    resume: () => server.start(),
    stop: async () => {
      await server.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** One slapd child process at a time, on ports chosen once and kept across restarts. */
class SlapdProcess {
  port = 0;
  tlsPort = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log = '';
  private readonly probeLines = new Set<string>();
  private readonly configFile: string;

  constructor(configFile: string) {
    this.configFile = configFile;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Free ports are found by binding port 0 and closing it; a race with another process is retried. */
  async startOnFreePorts(withTls: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      this.tlsPort = withTls ? await freePort() : 0;
      try {
        await this.start();
        return;
      } catch (error) {
        if (!isAddressInUse(error) || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
  }

  async start(): Promise<void> {
    if (this.child) return;
    const logStart = this.log.length;
    const urls = [`ldap://127.0.0.1:${this.port}/`];
    if (this.tlsPort) urls.push(`ldaps://127.0.0.1:${this.tlsPort}/`);
    // `-d stats` keeps slapd in the foreground, as our child process, and logs connections and operations.
    const child = spawn(SLAPD, ['-h', urls.join(' '), '-f', this.configFile, '-d', 'stats'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    // A test run that ends without stop() (a crash, a forgotten after hook) must not leave slapd behind.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const append = (chunk: Buffer) => {
      this.log += chunk.toString('utf8');
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        process.removeListener('exit', killOnExit);
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    await this.waitUntilReady(child, logStart);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const forceful = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(forceful);
  }

  async settledLog(): Promise<string> {
    const probeEnd = await this.probe();
    return withoutLines(this.log.slice(0, probeEnd), this.probeLines);
  }

  /**
   * Opens and closes a connection of our own and waits until slapd logs its ACCEPT, which comes after
   * everything slapd logged for operations already answered. Returns where that line ends in the log;
   * the line itself is left out of what tests see.
   */
  private async probe(): Promise<number> {
    const from = this.log.length;
    const marker = `ACCEPT from IP=127.0.0.1:${await openProbe(this.port)} `;
    const lineEnd = () => {
      const at = this.log.indexOf(marker, from);
      return at === -1 ? -1 : this.log.indexOf('\n', at);
    };
    await waitFor(() => lineEnd() !== -1, READY_TIMEOUT_MS, `slapd to log ${marker}`);
    const end = lineEnd();
    this.probeLines.add(this.log.slice(this.log.lastIndexOf('\n', end - 1) + 1, end));
    return end;
  }

  private async waitUntilReady(child: ChildProcess, logStart: number): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.child !== child) {
        throw new SlapdStartError(`slapd exited during start-up:\n${this.log.slice(logStart)}`);
      }
      const answers =
        this.log.includes('slapd starting', logStart) &&
        (await this.probe().then(
          () => true,
          () => false,
        ));
      if (answers) return;
      await delay(50);
    }
    await this.stop();
    throw new SlapdStartError(
      `slapd did not answer within ${READY_TIMEOUT_MS} ms:\n${this.log.slice(logStart)}`,
    );
  }
}

class SlapdStartError extends Error {
  override name = 'SlapdStartError';
}

function isAddressInUse(error: unknown): boolean {
  return error instanceof SlapdStartError && /Address already in use|errno=98/.test(error.message);
}

function slapdConfig(
  folder: string,
  certs: Certificates | undefined,
  idleTimeout: number | undefined,
): string {
  const tlsLines = certs
    ? [
        `TLSCACertificateFile ${certs.caFile}`,
        `TLSCertificateFile ${certs.certFile}`,
        `TLSCertificateKeyFile ${certs.keyFile}`,
      ]
    : [];
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    `include ${path.join(FIXTURES, 'ad-like.schema')}`,
    `pidfile ${path.join(folder, 'slapd.pid')}`,
    `argsfile ${path.join(folder, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    ...(idleTimeout ? [`idletimeout ${idleTimeout}`] : []),
    ...tlsLines,
    'database mdb',
    `suffix "${BASE_DN}"`,
    `rootdn "${ADMIN_DN}"`,
    `rootpw ${ADMIN_PASSWORD}`,
    `directory ${path.join(folder, 'data')}`,
    'maxsize 16777216',
    'index objectClass eq',
    'index uid,sAMAccountName,userPrincipalName,mail eq',
    // Like AD's MaxPageSize: pages of up to 1000 entries, as many pages as the client asks for.
    `limits dn.exact="${SERVICE_DN}" size.soft=1000 size.hard=1000 size.pr=1000 size.prtotal=unlimited`,
    // Anonymous may only authenticate; the service account reads everything; users read themselves.
    'access to attrs=userPassword',
    '  by anonymous auth',
    '  by * none',
    'access to *',
    `  by dn.exact="${SERVICE_DN}" read`,
    '  by self read',
    '  by * none',
    '',
  ].join('\n');
}

interface Certificates {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A throw-away CA and a server certificate for 127.0.0.1 / localhost. */
async function createCertificates(folder: string): Promise<Certificates> {
  const ca = await createTestCa(folder);
  return { caFile: ca.caFile, ...(await ca.server()) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Opens and closes a TCP connection; returns its local port, which slapd logs on ACCEPT. */
function openProbe(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      const localPort = socket.localPort ?? 0;
      socket.destroy();
      resolve(localPort);
    });
    socket.once('error', reject);
  });
}

function withoutLines(log: string, lines: ReadonlySet<string>): string {
  return log
    .split('\n')
    .filter((line) => !lines.has(line))
    .join('\n');
}

function countMatches(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}
