// Benchmark: our RADIUS server against FreeRADIUS on the same machine, and 10,000 out-of-band requests
// held at once. Not a test (never run by `npm test`); run it with `npm run bench:radius` or
// `node --expose-gc bench/radius.bench.ts --help`.
//
// Part 1, PAP throughput. One slapd (Debian's, started here on 127.0.0.1 with a generated directory)
// is the password backend of both servers; each server is a child process pinned to core 1, slapd and
// this process (the load generator) to core 0:
//   ours        the real service (bench/servers/radius-gateway.ts), directory type ldap
//   FreeRADIUS  /usr/sbin/freeradius -f with a minimal raddb generated into a temp folder: the ldap module
//               searches the user with the service account and binds as the user (Auth-Type LDAP)
// Workloads, the same Access-Requests (User-Name, hidden User-Password, Message-Authenticator) to both:
//   pap        users not in our store, accepted on the password (requireUserMatch: primary-only):
//              Access-Request → LDAP search + bind → Access-Accept with a Message-Authenticator
//   challenge  users in our store with TOTP (mode challenge): the first leg, Access-Request → LDAP
//              search + bind → Access-Challenge with a State; FreeRADIUS answers the same challenge
//              from post-auth after its LDAP bind succeeded. Only the first leg is loaded: a TOTP code
//              is single use per user and 30 s step, so the second leg cannot be repeated at this rate
//              (it is checked once per run of the benchmark, for our server).
// The load generator keeps `--concurrency` requests in flight over UDP (our codec), each with its own
// identifier and authenticator, verifies every answer (Response Authenticator and Message-Authenticator)
// and counts wrong answers and timeouts. Per run: warm-up, then a measured window; ours and FreeRADIUS
// alternate `--rounds` times. Reported per run: answers/s, latency, and the CPU time per request of
// the server (all its threads, from /proc/<pid>/stat), of slapd and of the load generator. The ratio
// (ours / FreeRADIUS) is requests per core-second: FreeRADIUS CPU per request / ours.
//
// Part 2, pending out-of-band requests. Our server alone (another child, --expose-gc), one out-of-band
// client and the mobile service; N users in the store (imported from the same slapd), each with an
// activated phone whose key this process holds. N Access-Requests from 64 sockets (each socket and
// identifier once), until the store holds N pending push requests; then the child's heap and RSS
// growth after a full GC, per pending request; a sample of retransmits must create no new push; then
// every request is approved the way a phone does it (a signed answer POSTed to /mobile/v1) and every
// Access-Request must get its Access-Accept, after which nothing is in flight.
//
// Everything binds 127.0.0.1 (and 127.0.0.2 as a second NAS) on ports the OS picks; every child is
// stopped at the end, on error, on Ctrl-C or when the overall time limit is reached, and the
// temporary folder (configs, stores, slapd's database, the raddb) is removed.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CompactSign } from 'jose';
import { base32Encode } from '../src/core/secrets/base32.ts';
import {
  ATTR,
  CODE,
  decodePacket,
  encodeRequest,
  encryptUserPassword,
  firstAttribute,
  type Packet,
  verifyResponse,
} from '../src/radius/packet.ts';
import { formatSummary, summarizeProfile } from './cpu-profile.ts';
import { stopChild } from './stop-child.ts';

const USAGE = `usage: node --expose-gc bench/radius.bench.ts [options]   (npm run bench:radius)
  --workloads LIST   which parts to run, comma-separated: pap, challenge (part 1), pending (part 2)
                     (default pap,challenge,pending)
  --duration S       seconds measured per run (default 10)
  --warmup S         seconds of load before each run, not measured (default 2)
  --rounds N         ours/FreeRADIUS pairs per workload, alternating (default 3)
  --concurrency N    requests in flight during part 1 (default 64)
  --users N          directory users per part-1 workload, used in turn (default 500)
  --pending N        part 2: out-of-band requests held at once (default 10000, at most 16000)
  --no-freeradius    measure our server alone (also what happens when FreeRADIUS is not installed)
  --no-pin           do not pin the servers to core 1 and slapd and the load generator to core 0
  --profile          CPU-profile our server over each measured part-1 run and print where the time went
  --heap-snapshot F  part 2: write a heap snapshot of our server to F while every request is pending
  --json FILE        also write every run and the ratios as JSON
  --time-limit S     stop everything after this long whatever happens (default: from the plan, +120 s)`;

const { values: opts } = parseArgs({
  options: {
    workloads: { type: 'string', default: 'pap,challenge,pending' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    users: { type: 'string', default: '500' },
    pending: { type: 'string', default: '10000' },
    'no-freeradius': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'heap-snapshot': { type: 'string' },
    json: { type: 'string' },
    'time-limit': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

function positive(name: string, text: string, integer: boolean, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
    console.error(
      `--${name} must be a positive ${integer ? 'integer' : 'number'} up to ${max}, not '${text}'\n${USAGE}`,
    );
    process.exit(2);
  }
  return n;
}

type WorkloadName = 'pap' | 'challenge' | 'pending';
const WORKLOADS = opts.workloads.split(',').map((w) => w.trim()) as WorkloadName[];
for (const w of WORKLOADS)
  if (!['pap', 'challenge', 'pending'].includes(w)) {
    console.error(`--workloads: unknown '${w}' (pap, challenge, pending)\n${USAGE}`);
    process.exit(2);
  }
const PART1 = WORKLOADS.filter((w): w is 'pap' | 'challenge' => w !== 'pending');
const DURATION = positive('duration', opts.duration, true);
const WARMUP = positive('warmup', opts.warmup, true);
const ROUNDS = positive('rounds', opts.rounds, true);
const CONCURRENCY = positive('concurrency', opts.concurrency, true, 4096);
const USERS = positive('users', opts.users, true, 50_000);
const PENDING = WORKLOADS.includes('pending') ? positive('pending', opts.pending, true, 16_000) : 0;
/** Users of part 2 that go through a whole cycle before the memory baseline (code paths warmed up). */
const PENDING_WARMUP = 16;
const TIME_LIMIT_S = opts['time-limit']
  ? positive('time-limit', opts['time-limit'], false)
  : PART1.length * ROUNDS * 2 * (WARMUP + DURATION + 5) + (PENDING ? 120 + PENDING / 50 : 0) + 120;

// ------------------------------------------------------------------ environment

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const FREERADIUS = '/usr/sbin/freeradius';
const RLM_LDAP = '/usr/lib/freeradius/rlm_ldap.so';
const FREERADIUS_DICTIONARY = '/usr/share/freeradius/dictionary';
const TASKSET = '/usr/bin/taskset';
const SCHEMA = fileURLToPath(new URL('../test/fixtures/ldap/ad-like.schema', import.meta.url));

for (const tool of [SLAPD, SLAPADD])
  if (!existsSync(tool)) {
    console.error(`${tool} is missing: the benchmark needs OpenLDAP's slapd (Debian package slapd)`);
    process.exit(2);
  }

/** Why the FreeRADIUS baseline is skipped, or undefined when it runs. */
function freeRadiusMissing(): string | undefined {
  if (opts['no-freeradius']) return '--no-freeradius given';
  if (PART1.length === 0) return 'no part-1 workload';
  if (!existsSync(FREERADIUS))
    return `${FREERADIUS} not found (Debian package freeradius; this benchmark never installs it)`;
  if (!existsSync(RLM_LDAP))
    return `FreeRADIUS's LDAP module ${RLM_LDAP} is missing: install it with apt-get install freeradius-ldap`;
  return undefined;
}
const SKIP_FREERADIUS = freeRadiusMissing();

/** Read before this process pins itself: afterwards it sees one core. */
const CORES = availableParallelism();
const PIN = !opts['no-pin'] && existsSync(TASKSET) && CORES >= 2;
const pinNote = opts['no-pin']
  ? 'not pinned (--no-pin)'
  : PIN
    ? 'servers on core 1; slapd and the load generator on core 0'
    : `not pinned (${existsSync(TASKSET) ? `${CORES} core` : 'no taskset'})`;
/** The command line that runs `command` on one core (taskset execs it: the child keeps its pid). */
function onCore(core: number, command: string, args: string[]): [string, string[]] {
  return PIN ? [TASKSET, ['-c', String(core), command, ...args]] : [command, args];
}
if (PIN) spawnSync(TASKSET, ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (every thread) a process has used so far in user and in system (kernel) mode, in µs. */
function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1e6) / CLOCK_TICKS, system: (Number(fields[12]) * 1e6) / CLOCK_TICKS };
}

function cpuMicros(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

const selfCpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

// ------------------------------------------------------------------ children and cleanup

const children: ChildProcess[] = [];
const WORK_DIR = mkdtempSync(join(tmpdir(), 'mfa-radius-bench-'));
process.on('exit', () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(WORK_DIR, { recursive: true, force: true });
});

function track(proc: ChildProcess): ChildProcess {
  children.push(proc);
  return proc;
}

function stopEverything(code: number): void {
  const exit = () => process.exit(code);
  setTimeout(exit, 4000).unref();
  Promise.all(children.map((proc) => stopChild(proc, 2500))).finally(exit);
}

/** The last few KB of a child's output, for error messages. */
function tail(proc: ChildProcess): () => string {
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-8000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return () => text;
}

function tcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function udpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

function exited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

// ------------------------------------------------------------------ the directory (slapd)

const BASE_DN = 'dc=example,dc=test';
const SERVICE_DN = `cn=svc-mfa,ou=Service,${BASE_DN}`;
const SERVICE_PASSWORD = 'svc-secret-0';
const OU = { pap: `ou=Pap,${BASE_DN}`, challenge: `ou=Otp,${BASE_DN}`, pending: `ou=Push,${BASE_DN}` };
const PREFIX = { pap: 'pap', challenge: 'otp', pending: 'push' } as const;

const userName = (kind: WorkloadName, i: number) => `${PREFIX[kind]}${String(i).padStart(5, '0')}`;
const passwordOf = (name: string) => `${name}-Pa55word`;

function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** The directory: a service account and the users of each workload, each in its own OU. */
function directoryLdif(counts: Record<WorkloadName, number>): string {
  const out = [
    `dn: ${BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example Bench\n`,
    `dn: ou=Service,${BASE_DN}\nobjectClass: organizationalUnit\nou: Service\n`,
    `dn: ${SERVICE_DN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\ncn: svc-mfa\nuserPassword: ${ssha(SERVICE_PASSWORD)}\n`,
  ];
  for (const kind of ['pap', 'challenge', 'pending'] as const) {
    const ou = OU[kind];
    out.push(`dn: ${ou}\nobjectClass: organizationalUnit\nou: ${ou.slice(3, ou.indexOf(','))}\n`);
    for (let i = 0; i < counts[kind]; i++) {
      const name = userName(kind, i);
      out.push(`dn: cn=${name},${ou}
objectClass: inetOrgPerson
objectClass: adUser
cn: ${name}
sn: ${name}
displayName: Bench User ${i}
sAMAccountName: ${name}
mail: ${name}@example.test
objectGUID:: ${randomBytes(16).toString('base64')}
memberOf: cn=VPN Users,ou=Groups,${BASE_DN}
userPassword: ${ssha(passwordOf(name))}
`);
    }
  }
  return `${out.join('\n')}\n`;
}

interface Slapd {
  proc: ChildProcess;
  pid: number;
  url: string;
}

/**
 * slapd as test/helpers/slapd.ts runs it (slapadd, then slapd in the foreground on 127.0.0.1), but
 * with `-d 0` instead of `-d stats`: per-operation logging would cost slapd CPU on every request and
 * fill this process's memory with hundreds of MB of log during a run.
 */
async function startSlapd(counts: Record<WorkloadName, number>): Promise<Slapd> {
  const folder = join(WORK_DIR, 'slapd');
  mkdirSync(join(folder, 'data'), { recursive: true });
  const config = join(folder, 'slapd.conf');
  writeFileSync(
    config,
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      `include ${SCHEMA}`,
      `pidfile ${join(folder, 'slapd.pid')}`,
      `argsfile ${join(folder, 'slapd.args')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'loglevel 0',
      'database mdb',
      `suffix "${BASE_DN}"`,
      `rootdn "cn=admin,${BASE_DN}"`,
      `rootpw ${randomBytes(12).toString('hex')}`,
      `directory ${join(folder, 'data')}`,
      'maxsize 1073741824',
      'index objectClass eq',
      'index sAMAccountName eq',
      `limits dn.exact="${SERVICE_DN}" size=unlimited`,
      // Anonymous may only authenticate; the service account reads everything but passwords.
      'access to attrs=userPassword',
      '  by anonymous auth',
      '  by * none',
      'access to *',
      `  by dn.exact="${SERVICE_DN}" read`,
      '  by self read',
      '  by * none',
      '',
    ].join('\n'),
  );
  const ldif = join(folder, 'directory.ldif');
  writeFileSync(ldif, directoryLdif(counts));
  execFileSync(SLAPADD, ['-q', '-f', config, '-l', ldif], { stdio: 'pipe' });
  for (let attempt = 1; ; attempt++) {
    const port = await tcpPort();
    const url = `ldap://127.0.0.1:${port}/`;
    const [command, args] = onCore(0, SLAPD, ['-h', url, '-f', config, '-d', '0']);
    const proc = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    const output = tail(proc);
    const deadline = Date.now() + 15_000;
    while (!exited(proc) && Date.now() < deadline) {
      if (await connects(port)) return { proc, pid: proc.pid ?? 0, url };
      await sleep(50);
    }
    await stopChild(proc, 1000);
    if (/Address already in use|errno=98/.test(output()) && attempt < 5) continue;
    throw new Error(`slapd did not start:\n${output()}`);
  }
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// ------------------------------------------------------------------ FreeRADIUS

const CHALLENGE_PROMPT = 'Enter the code from your authenticator app, or type push to approve on your phone.';

/**
 * A minimal raddb, generated here (nothing copied from the Debian config): one auth listener, the two
 * NASes with require_message_authenticator, and the ldap module searching with the service account
 * and binding as the user. For the `challenge` NAS, a successful bind ends in an Access-Challenge with
 * a random State and the same prompt as ours; every answer carries a Message-Authenticator, as ours.
 */
function raddb(dir: string, port: number, ldapPort: number, secret: string): string {
  return `# Generated by bench/radius.bench.ts for one run; removed afterwards.
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = ${dir}
raddbdir = ${dir}
radacctdir = ${dir}
name = freeradius
confdir = \${raddbdir}
modconfdir = \${confdir}
run_dir = ${dir}
db_dir = ${dir}
libdir = /usr/lib/freeradius
pidfile = \${run_dir}/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {
  destination = stdout
  colourise = no
  auth = no
  auth_badpass = no
  auth_goodpass = no
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = yes
}
thread pool {
  start_servers = 32
  max_servers = 64
  min_spare_servers = 8
  max_spare_servers = 32
  max_requests_per_server = 0
  auto_limit_acct = no
}
client pap {
  ipaddr = 127.0.0.1
  secret = "${secret}"
  require_message_authenticator = yes
}
client challenge {
  ipaddr = 127.0.0.2
  secret = "${secret}"
  require_message_authenticator = yes
}
modules {
  always handled {
    rcode = handled
  }
  expr {
  }
  ldap {
    server = '127.0.0.1'
    port = ${ldapPort}
    identity = '${SERVICE_DN}'
    password = '${SERVICE_PASSWORD}'
    base_dn = '${BASE_DN}'
    user {
      base_dn = "\${..base_dn}"
      filter = "(&(objectClass=person)(sAMAccountName=%{User-Name}))"
      scope = 'sub'
    }
    options {
      chase_referrals = no
      res_timeout = 10
      srv_timelimit = 10
      net_timeout = 5
    }
    pool {
      start = 16
      min = 16
      max = 64
      spare = 16
      uses = 0
      lifetime = 0
      idle_timeout = 0
    }
  }
}
server bench {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = ${port}
  }
  authorize {
    ldap
    if (ok || updated) {
      if ("%{client:shortname}" == 'challenge') {
        update control {
          &Auth-Type := ldap_challenge
        }
      }
      else {
        update control {
          &Auth-Type := LDAP
        }
      }
    }
  }
  authenticate {
    Auth-Type LDAP {
      ldap
    }
    # The bind as the user, then an Access-Challenge instead of the accept (\`handled\`: no post-auth).
    Auth-Type ldap_challenge {
      ldap
      if (ok) {
        update control {
          &Response-Packet-Type := Access-Challenge
        }
        update reply {
          &State := "0x%{randstr:hhhhhhhhhhhhhhhh}"
          &Reply-Message := "${CHALLENGE_PROMPT}"
          &Message-Authenticator := 0x00
        }
        handled
      }
    }
  }
  post-auth {
    update reply {
      &Message-Authenticator := 0x00
    }
    Post-Auth-Type REJECT {
      update reply {
        &Message-Authenticator := 0x00
      }
    }
  }
}
`;
}

interface Target {
  name: 'ours' | 'freeradius';
  proc: ChildProcess;
  pid: number;
  port: number;
}

async function startFreeRadius(ldapPort: number, secret: string): Promise<Target> {
  const dir = join(WORK_DIR, 'raddb');
  mkdirSync(dir, { recursive: true });
  if (existsSync(FREERADIUS_DICTIONARY))
    writeFileSync(join(dir, 'dictionary'), `$INCLUDE ${FREERADIUS_DICTIONARY}\n`);
  for (let attempt = 1; ; attempt++) {
    const port = await udpPort();
    writeFileSync(join(dir, 'radiusd.conf'), raddb(dir, port, ldapPort, secret));
    const [command, args] = onCore(1, FREERADIUS, ['-f', '-d', dir, '-n', 'radiusd', '-l', 'stdout']);
    const proc = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    const output = tail(proc);
    const deadline = Date.now() + 20_000;
    while (!exited(proc) && Date.now() < deadline && !output().includes('Ready to process requests'))
      await sleep(50);
    if (!exited(proc) && output().includes('Ready to process requests'))
      return { name: 'freeradius', proc, pid: proc.pid ?? 0, port };
    await stopChild(proc, 1000);
    if (/Address already in use/.test(output()) && attempt < 5) continue;
    throw new Error(`FreeRADIUS did not start:\n${output()}`);
  }
}

// ------------------------------------------------------------------ our server (child)

interface Ours extends Target {
  httpPort: number;
  info: Record<string, unknown>;
}

async function startOurs(args: string[], nodeFlags: string[]): Promise<Ours> {
  const file = fileURLToPath(new URL('./servers/radius-gateway.ts', import.meta.url));
  const [command, commandArgs] = onCore(1, process.execPath, [...nodeFlags, file, ...args]);
  const proc = track(spawn(command, commandArgs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('our server did not start within 300 s')), 300_000);
    const onExit = (code: number | null, signal: string | null) =>
      fail(new Error(`our server exited (${code ?? signal}) before it was ready`));
    const onMessage = (message: Record<string, unknown>) => {
      if (message.type !== 'ready' || typeof message.port !== 'number') return;
      done();
      resolve({
        name: 'ours',
        proc,
        pid: proc.pid ?? 0,
        port: message.port,
        httpPort: Number(message.httpPort),
        info: message,
      });
    };
    function done() {
      clearTimeout(timer);
      proc.off('exit', onExit);
      proc.off('error', fail);
      proc.off('message', onMessage);
    }
    function fail(error: Error) {
      done();
      reject(error);
    }
    proc.on('message', onMessage);
    proc.once('exit', onExit);
    proc.once('error', fail);
  });
}

let nextAsk = 1;

/** A request to our child over IPC, answered with the same id (see bench/servers/child.ts). */
function ask(
  target: Ours,
  message: { type: string; file?: string },
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const id = nextAsk++;
  const { proc } = target;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`our server did not answer ${message.type}`)), timeoutMs);
    const onMessage = (answer: { type?: string; id?: number; error?: string }) => {
      if (answer.type !== 'answer' || answer.id !== id) return;
      if (answer.error) finish(new Error(`our server: ${answer.error}`));
      else finish(undefined, answer);
    };
    const onExit = () => finish(new Error('our server exited'));
    function finish(error: Error | undefined, answer?: Record<string, unknown>) {
      clearTimeout(timer);
      proc.off('message', onMessage);
      proc.off('exit', onExit);
      if (error) reject(error);
      else resolve(answer ?? {});
    }
    proc.on('message', onMessage);
    proc.once('exit', onExit);
    proc.send({ ...message, id });
  });
}

// ------------------------------------------------------------------ RADIUS client side

interface RequestSpec {
  user: string;
  password: string;
  state?: Buffer;
}

/** An Access-Request with its hidden User-Password and a Message-Authenticator (first attribute). */
function accessRequest(secret: Buffer, identifier: number, spec: RequestSpec) {
  const authenticator = randomBytes(16);
  const attributes = [
    { type: ATTR.UserName, value: Buffer.from(spec.user, 'utf8') },
    {
      type: ATTR.UserPassword,
      value: encryptUserPassword(Buffer.from(spec.password, 'utf8'), secret, authenticator),
    },
    ...(spec.state ? [{ type: ATTR.State, value: spec.state }] : []),
  ];
  const bytes = encodeRequest({
    code: CODE.AccessRequest,
    identifier,
    authenticator,
    attributes,
    secret,
    messageAuthenticator: true,
  });
  return { bytes, authenticator };
}

/** Why an answer is not acceptable (wrong authenticators, no Message-Authenticator), or undefined. */
function answerProblem(packet: Packet, requestAuthenticator: Buffer, secret: Buffer): string | undefined {
  if (!verifyResponse(packet, requestAuthenticator, secret)) return 'bad Response Authenticator or MA';
  if (firstAttribute(packet, ATTR.MessageAuthenticator) === undefined) return 'no Message-Authenticator';
  return undefined;
}

const CODE_NAMES: Record<number, string> = {
  [CODE.AccessAccept]: 'Access-Accept',
  [CODE.AccessReject]: 'Access-Reject',
  [CODE.AccessChallenge]: 'Access-Challenge',
};
const codeName = (code: number) => CODE_NAMES[code] ?? `code ${code}`;

/** One exchange on a fresh socket (from `from`), for the checks before measuring. */
async function exchange(
  port: number,
  from: string,
  secret: Buffer,
  spec: RequestSpec,
): Promise<{ packet: Packet; problem: string | undefined }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, from, resolve));
  try {
    const { bytes, authenticator } = accessRequest(secret, 7, spec);
    const answer = new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 5000);
      socket.once('message', (datagram) => {
        clearTimeout(timer);
        resolve(datagram);
      });
    });
    socket.send(bytes, port, '127.0.0.1');
    const datagram = await answer;
    if (!datagram) throw new Error(`no answer within 5 s to ${spec.user} from ${from}`);
    const decoded = decodePacket(datagram);
    if (!decoded.ok) throw new Error(`undecodable answer: ${decoded.reason}`);
    return { packet: decoded.packet, problem: answerProblem(decoded.packet, authenticator, secret) };
  } finally {
    socket.close();
  }
}

/** RFC 6238 with SHA-1 and 6 digits, for the one second-leg check. */
function totp(seed: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', seed).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

interface Counters {
  sent: number;
  /** Verified answers with the expected code. */
  ok: number;
  /** Verified answers with another code (Access-Reject ...). */
  wrong: number;
  /** Answers that do not verify, are not ours, or come after their request timed out. */
  unverifiable: number;
  timeouts: number;
}

interface Load {
  counters: Counters;
  codes: Map<string, number>;
  /** Latencies (ms) of the expected answers while set; undefined: not recorded. */
  latencies: number[] | undefined;
  start(): void;
  /** Stops sending and waits (bounded) for the answers of the requests still in flight. */
  stop(): Promise<void>;
  close(): void;
}

const SLOTS_PER_SOCKET = 128;
const REQUEST_TIMEOUT_MS = 5000;

/**
 * Keeps `concurrency` Access-Requests in flight: each answer (or timeout) frees its slot and the next
 * request goes out at once. Users are taken in turn; every request gets a fresh authenticator, and an
 * identifier not in use on its socket (at most 128 in flight per socket, so a late answer to an
 * identifier just reused is unlikely and, if it comes, fails verification and is counted).
 */
async function openLoad(options: {
  port: number;
  from: string;
  secret: Buffer;
  expect: number;
  users: RequestSpec[];
  concurrency: number;
}): Promise<Load> {
  const { port, secret, expect, users } = options;
  interface Slot {
    authenticator: Buffer;
    sentAt: number;
  }
  interface Sock {
    socket: dgram.Socket;
    pending: Map<number, Slot>;
    nextId: number;
  }
  const counters: Counters = { sent: 0, ok: 0, wrong: 0, unverifiable: 0, timeouts: 0 };
  const codes = new Map<string, number>();
  const sockets: Sock[] = [];
  let running = false;
  let nextUser = 0;
  const load: Load = {
    counters,
    codes,
    latencies: undefined,
    start() {
      running = true;
      for (let i = 0; i < options.concurrency; i++) send(sockets[i % sockets.length] as Sock);
    },
    async stop() {
      running = false;
      const deadline = Date.now() + REQUEST_TIMEOUT_MS + 1000;
      while (sockets.some((s) => s.pending.size > 0) && Date.now() < deadline) await sleep(20);
    },
    close() {
      clearInterval(sweeper);
      for (const s of sockets) s.socket.close();
    },
  };

  function send(sock: Sock): void {
    let id = sock.nextId;
    while (sock.pending.has(id)) id = (id + 1) & 0xff;
    sock.nextId = (id + 1) & 0xff;
    const spec = users[nextUser++ % users.length] as RequestSpec;
    const { bytes, authenticator } = accessRequest(secret, id, spec);
    sock.pending.set(id, { authenticator, sentAt: performance.now() });
    counters.sent++;
    sock.socket.send(bytes, port, '127.0.0.1');
  }

  function receive(sock: Sock, datagram: Buffer): void {
    const decoded = decodePacket(datagram);
    const slot = decoded.ok ? sock.pending.get(decoded.packet.identifier) : undefined;
    if (!decoded.ok || !slot || answerProblem(decoded.packet, slot.authenticator, secret)) {
      counters.unverifiable++;
      return;
    }
    const { packet } = decoded;
    sock.pending.delete(packet.identifier);
    if (packet.code === expect) {
      counters.ok++;
      load.latencies?.push(performance.now() - slot.sentAt);
    } else {
      counters.wrong++;
      codes.set(codeName(packet.code), (codes.get(codeName(packet.code)) ?? 0) + 1);
    }
    if (running) send(sock);
  }

  const socketCount = Math.ceil(options.concurrency / SLOTS_PER_SOCKET);
  for (let i = 0; i < socketCount; i++) {
    const socket = dgram.createSocket({
      type: 'udp4',
      recvBufferSize: 1 << 22,
      sendBufferSize: 1 << 22,
    });
    await new Promise<void>((resolve) => socket.bind(0, options.from, resolve));
    const sock: Sock = { socket, pending: new Map(), nextId: 0 };
    socket.on('message', (datagram) => receive(sock, datagram));
    socket.on('error', () => undefined);
    sockets.push(sock);
  }
  const sweeper = setInterval(() => {
    const late = performance.now() - REQUEST_TIMEOUT_MS;
    for (const sock of sockets)
      for (const [id, slot] of sock.pending)
        if (slot.sentAt < late) {
          sock.pending.delete(id);
          counters.timeouts++;
          if (running) send(sock);
        }
  }, 100);
  return load;
}

// ------------------------------------------------------------------ part 1

interface Workload {
  name: 'pap' | 'challenge';
  title: string;
  from: string;
  expect: number;
  users: RequestSpec[];
}

interface Run {
  workload: 'pap' | 'challenge';
  target: 'ours' | 'freeradius';
  round: number;
  seconds: number;
  answers: number;
  rps: number;
  p50: number;
  p99: number;
  /** CPU of the server (every thread) per expected answer, µs. */
  cpuUsPerReq: number;
  /** Share of one core the server used over the window. */
  coreUse: number;
  /** Share of the server's CPU time spent in the kernel (syscalls: UDP, TCP to slapd, fsync). */
  systemShare: number;
  /** Requests per second of server CPU: the throughput of one saturated core. */
  perCore: number;
  slapdUsPerReq: number;
  loadgenUsPerReq: number;
  wrong: number;
  timeouts: number;
  unverifiable: number;
  codes: Record<string, number>;
}

const profiles: Array<{ workload: string; file: string; requests: number }> = [];
const PROFILE_DIR = opts.profile ? mkdtempSync(join(tmpdir(), 'mfa-radius-prof-')) : undefined;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

async function measure(
  target: Target,
  workload: Workload,
  round: number,
  secret: Buffer,
  slapd: Slapd,
): Promise<Run> {
  const load = await openLoad({
    port: target.port,
    from: workload.from,
    secret,
    expect: workload.expect,
    users: workload.users,
    concurrency: CONCURRENCY,
  });
  try {
    load.start();
    await sleep(WARMUP * 1000);
    const profiled = PROFILE_DIR !== undefined && target.name === 'ours';
    if (profiled) await ask(target as Ours, { type: 'profile-start' });
    const before = { ...load.counters };
    const cpu0 = [cpuMicros(target.pid), cpuMicros(slapd.pid), selfCpu(), cpuTimes(target.pid).system];
    const t0 = performance.now();
    load.latencies = [];
    await sleep(DURATION * 1000);
    const latencies = load.latencies;
    load.latencies = undefined;
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = [cpuMicros(target.pid), cpuMicros(slapd.pid), selfCpu(), cpuTimes(target.pid).system];
    const after = { ...load.counters };
    if (PROFILE_DIR && profiled) {
      const file = join(PROFILE_DIR, `ours-${workload.name}-${round}.cpuprofile`);
      await ask(target as Ours, { type: 'profile-stop', file });
      profiles.push({ workload: workload.name, file, requests: after.ok - before.ok });
    }
    await load.stop();
    const answers = after.ok - before.ok;
    const used = (i: number) => (cpu1[i] ?? 0) - (cpu0[i] ?? 0);
    const sorted = latencies.sort((a, b) => a - b);
    const run: Run = {
      workload: workload.name,
      target: target.name,
      round,
      seconds,
      answers,
      rps: answers / seconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      cpuUsPerReq: used(0) / Math.max(1, answers),
      coreUse: used(0) / 1e6 / seconds,
      systemShare: used(3) / Math.max(1, used(0)),
      perCore: answers / Math.max(1e-9, used(0) / 1e6),
      slapdUsPerReq: used(1) / Math.max(1, answers),
      loadgenUsPerReq: used(2) / Math.max(1, answers),
      // Over the whole run, warm-up and draining included: none is acceptable.
      wrong: load.counters.wrong,
      timeouts: load.counters.timeouts,
      unverifiable: load.counters.unverifiable,
      codes: Object.fromEntries(load.codes),
    };
    const problems = run.wrong + run.timeouts + run.unverifiable;
    console.error(
      `  ${workload.name.padEnd(9)} ${`${target.name} #${round}`.padEnd(13)} ${run.rps.toFixed(0).padStart(6)} req/s` +
        `  p50 ${run.p50.toFixed(1)} ms  p99 ${run.p99.toFixed(1)} ms  ${run.cpuUsPerReq.toFixed(0)} µs CPU/req` +
        ` (${(run.coreUse * 100).toFixed(0)}% of a core)  slapd ${run.slapdUsPerReq.toFixed(0)} µs/req` +
        (problems
          ? `  WRONG ${run.wrong} ${JSON.stringify(run.codes)} timeouts ${run.timeouts} unverifiable ${run.unverifiable}`
          : ''),
    );
    return run;
  } finally {
    load.close();
  }
}

/** Before measuring: the right password is accepted (or challenged), a wrong one rejected, answers verify. */
async function checkTarget(
  target: Target,
  workloads: Workload[],
  secret: Buffer,
  seed: Buffer | undefined,
): Promise<void> {
  const expectCode = async (from: string, spec: RequestSpec, code: number, what: string) => {
    const { packet, problem } = await exchange(target.port, from, secret, spec);
    if (problem || packet.code !== code)
      throw new Error(
        `${target.name}: ${what}: got ${codeName(packet.code)}${problem ? ` (${problem})` : ''}, not ${codeName(code)}`,
      );
    return packet;
  };
  for (const workload of workloads) {
    const user = workload.users[0] as RequestSpec;
    const first = await expectCode(workload.from, user, workload.expect, `${workload.name}, right password`);
    await expectCode(
      workload.from,
      { user: user.user, password: 'not-the-password' },
      CODE.AccessReject,
      `${workload.name}, wrong password`,
    );
    const state = firstAttribute(first, ATTR.State);
    if (workload.name === 'challenge' && !state) throw new Error(`${target.name}: a challenge without State`);
    // The second leg, once, where it exists: the code for the current step answers the challenge.
    if (workload.name === 'challenge' && target.name === 'ours' && seed && state) {
      const code = totp(seed, Math.floor(Date.now() / 30_000));
      await expectCode(
        workload.from,
        { user: user.user, password: code, state },
        CODE.AccessAccept,
        'challenge, second leg with a TOTP code',
      );
    }
  }
}

interface Ratio {
  workload: string;
  ours: { rps: number; cpuUsPerReq: number; perCore: number };
  freeradius: { rps: number; cpuUsPerReq: number; perCore: number } | undefined;
  /** Requests per core-second, ours / FreeRADIUS: the median of the rounds. */
  perCoreRatio: number | undefined;
  perCoreRounds: number[];
  /** Answers per second, each server pinned to one core: the median of the rounds. */
  throughputRatio: number | undefined;
  throughputRounds: number[];
}

function reportWorkload(workload: Workload, runs: Run[]): Ratio {
  const mine = runs.filter((r) => r.workload === workload.name);
  const ours = mine.filter((r) => r.target === 'ours');
  const theirs = mine.filter((r) => r.target === 'freeradius');
  const header = [
    'run',
    'target',
    'req/s',
    'p50 ms',
    'p99 ms',
    'CPU µs/req',
    'core use',
    'kernel',
    'req/s per core',
    'slapd µs/req',
    'loadgen µs/req',
    'wrong',
    'timeouts',
  ];
  const rows = [
    header,
    ...mine.map((r) => [
      String(r.round),
      r.target,
      r.rps.toFixed(0),
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      r.cpuUsPerReq.toFixed(0),
      `${(r.coreUse * 100).toFixed(0)}%`,
      `${(r.systemShare * 100).toFixed(0)}%`,
      r.perCore.toFixed(0),
      r.slapdUsPerReq.toFixed(0),
      r.loadgenUsPerReq.toFixed(0),
      String(r.wrong + r.unverifiable),
      String(r.timeouts),
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  console.log(`\n${workload.title}`);
  console.log(
    rows
      .map((row) =>
        row.map((cell, i) => (i < 2 ? cell.padEnd : cell.padStart).call(cell, widths[i] ?? 0)).join('  '),
      )
      .join('\n'),
  );
  const summary = (list: Run[]) => ({
    rps: median(list.map((r) => r.rps)),
    cpuUsPerReq: median(list.map((r) => r.cpuUsPerReq)),
    perCore: median(list.map((r) => r.perCore)),
  });
  const o = summary(ours);
  const t = theirs.length ? summary(theirs) : undefined;
  const pair = (f: (a: Run, b: Run) => number) =>
    ours.flatMap((a) => {
      const b = theirs.find((x) => x.round === a.round);
      return b ? [f(a, b)] : [];
    });
  const perCoreRounds = pair((a, b) => a.perCore / b.perCore);
  const throughputRounds = pair((a, b) => a.rps / b.rps);
  const ratio: Ratio = {
    workload: workload.name,
    ours: o,
    freeradius: t,
    perCoreRatio: t ? median(perCoreRounds) : undefined,
    perCoreRounds,
    throughputRatio: t ? median(throughputRounds) : undefined,
    throughputRounds,
  };
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(', ');
  console.log(
    `median            ours ${o.rps.toFixed(0)} req/s, ${o.cpuUsPerReq.toFixed(0)} µs CPU/req, ${o.perCore.toFixed(0)} req/s per core` +
      (t
        ? `;  FreeRADIUS ${t.rps.toFixed(0)} req/s, ${t.cpuUsPerReq.toFixed(0)} µs CPU/req, ${t.perCore.toFixed(0)} req/s per core`
        : ''),
  );
  if (t && ratio.perCoreRatio !== undefined && ratio.throughputRatio !== undefined)
    console.log(
      `ratio (ours / FreeRADIUS)  ${ratio.perCoreRatio.toFixed(3)} requests per core-second (rounds: ${fmt(perCoreRounds)}); target ≥ 1.0: ${ratio.perCoreRatio >= 1 ? 'met' : 'NOT met'}
throughput ratio  ${ratio.throughputRatio.toFixed(3)} answers/s, each pinned to one core (rounds: ${fmt(throughputRounds)})`,
    );
  return ratio;
}

async function partOne(
  slapd: Slapd,
  secret: string,
  seed: Buffer,
): Promise<{ runs: Run[]; ratios: Ratio[] } | undefined> {
  if (PART1.length === 0) return undefined;
  const key = Buffer.from(secret, 'utf8');
  const workloads: Workload[] = PART1.map((name) => ({
    name,
    title:
      name === 'pap'
        ? `PAP accept: Access-Request → LDAP search + bind → Access-Accept (${CONCURRENCY} in flight, ${DURATION} s per run after ${WARMUP} s warm-up; ${pinNote})`
        : `PAP + challenge, first leg: Access-Request → LDAP search + bind → Access-Challenge (${CONCURRENCY} in flight, ${DURATION} s per run after ${WARMUP} s warm-up; ${pinNote})`,
    from: name === 'pap' ? '127.0.0.1' : '127.0.0.2',
    expect: name === 'pap' ? CODE.AccessAccept : CODE.AccessChallenge,
    users: Array.from({ length: USERS }, (_, i) => {
      const user = userName(name, i);
      return { user, password: passwordOf(user) };
    }),
  }));
  const ldapPort = Number(new URL(slapd.url).port);
  const [ours, theirs] = await Promise.all([
    startOurs(
      [
        '--mode=throughput',
        `--dir=${mkdtempSync(join(WORK_DIR, 'ours-'))}`,
        `--ldap-url=${slapd.url}`,
        `--bind-dn=${SERVICE_DN}`,
        `--bind-password=${SERVICE_PASSWORD}`,
        `--base-dn=${BASE_DN}`,
        `--import-base=${OU.challenge}`,
        `--secret=${secret}`,
        `--totp-seed=${base32Encode(seed)}`,
      ],
      [],
    ),
    SKIP_FREERADIUS ? Promise.resolve(undefined) : startFreeRadius(ldapPort, secret),
  ]);
  console.error(
    `ours: udp://127.0.0.1:${ours.port} (pid ${ours.pid}, ${String(ours.info.users)} users imported with TOTP in ${String(ours.info.setupMs)} ms)` +
      (theirs ? `; FreeRADIUS: udp://127.0.0.1:${theirs.port} (pid ${theirs.pid})` : ''),
  );
  const targets: Target[] = theirs ? [ours, theirs] : [ours];
  for (const target of targets) await checkTarget(target, workloads, key, seed);
  console.error('checks passed: right password answered, wrong password rejected, every answer verified');

  const runs: Run[] = [];
  for (const workload of workloads)
    for (let round = 1; round <= ROUNDS; round++)
      for (const target of round % 2 ? targets : [...targets].reverse())
        runs.push(await measure(target, workload, round, key, slapd));
  const ratios = workloads.map((w) => reportWorkload(w, runs));
  await Promise.all(targets.map((t) => stopChild(t.proc, 5000)));
  if (profiles.length > 0) {
    for (const workload of workloads) {
      const last = profiles.filter((p) => p.workload === workload.name).at(-1);
      if (!last) continue;
      console.log(
        `\n${formatSummary(summarizeProfile(last.file), { requests: last.requests, title: `ours, ${workload.name}: ${last.file}`, top: 25 })}`,
      );
    }
    console.log('(the profiled runs are slower than they would be without the profiler)');
  }
  return { runs, ratios };
}

// ------------------------------------------------------------------ part 2

interface PendingResult {
  requests: number;
  sockets: number;
  setupMs: number;
  toAllPendingMs: number;
  retransmitPasses: number;
  heapBaselineMB: number;
  heapHeldMB: number;
  heapPerPendingKB: number;
  rssHeldMB: number;
  rssPerPendingKB: number;
  externalHeldMB: number;
  holdCpuPercent: number;
  retransmitsSent: number;
  retransmitsNewPushes: number;
  retransmitsAnswered: number;
  answerMs: number;
  accepted: number;
  notAccepted: number;
  inFlightAfter: number;
  heapAfterAnsweredMB: number;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function partTwo(slapd: Slapd, secret: string): Promise<PendingResult | undefined> {
  if (PENDING === 0) return undefined;
  const N = PENDING;
  const total = N + PENDING_WARMUP;
  const key = Buffer.from(secret, 'utf8');
  console.error(`\npart 2: ${N} pending out-of-band requests; generating ${total} phone keys`);
  const phones = Array.from({ length: total }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const keysFile = join(WORK_DIR, 'phones.json');
  writeFileSync(
    keysFile,
    JSON.stringify(
      phones.map(({ publicKey }) => {
        const jwk = publicKey.export({ format: 'jwk' });
        return { x: jwk.x, y: jwk.y };
      }),
    ),
  );
  const ours = await startOurs(
    [
      '--mode=pending',
      `--dir=${mkdtempSync(join(WORK_DIR, 'pending-'))}`,
      `--ldap-url=${slapd.url}`,
      `--bind-dn=${SERVICE_DN}`,
      `--bind-password=${SERVICE_PASSWORD}`,
      `--base-dn=${BASE_DN}`,
      `--import-base=${OU.pending}`,
      `--secret=${secret}`,
      `--keys=${keysFile}`,
      '--wait-seconds=300',
    ],
    ['--expose-gc'],
  );
  const setupMs = Number(ours.info.setupMs);
  console.error(
    `ours: udp://127.0.0.1:${ours.port}, http://127.0.0.1:${ours.httpPort} (pid ${ours.pid}); ${String(ours.info.users)} users imported, each with a phone, in ${(setupMs / 1000).toFixed(1)} s`,
  );
  const status = async () => {
    const s = await ask(ours, { type: 'status' });
    return { inFlight: Number(s.inFlight), pending: Number(s.pending), total: Number(s.total) };
  };
  const memory = async () => {
    const m = await ask(ours, { type: 'memory' });
    return { heapUsed: Number(m.heapUsed), rss: Number(m.rss), external: Number(m.external) };
  };

  // The client side: `socketCount` sockets, request i on socket i % socketCount with identifier
  // floor(i / socketCount): every (source port, identifier) once. Users: push<i>.
  const socketCount = Math.max(64, Math.ceil(total / 200));
  interface Sent {
    bytes: Buffer;
    authenticator: Buffer;
    answer: number | undefined;
    problem: string | undefined;
  }
  const sent: Sent[] = [];
  let answered = 0;
  const sockets: dgram.Socket[] = [];
  const bySocket = new Map<dgram.Socket, Map<number, number>>();
  for (let i = 0; i < socketCount; i++) {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 22, sendBufferSize: 1 << 22 });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const index = new Map<number, number>();
    bySocket.set(socket, index);
    socket.on('message', (datagram) => {
      const decoded = decodePacket(datagram);
      const at = decoded.ok ? index.get(decoded.packet.identifier) : undefined;
      const request = at === undefined ? undefined : sent[at];
      if (!decoded.ok || !request || request.answer !== undefined) return;
      request.answer = decoded.packet.code;
      request.problem = answerProblem(decoded.packet, request.authenticator, key);
      answered++;
    });
    socket.on('error', () => undefined);
    sockets.push(socket);
  }
  // The warm-up users are push<N>..push<N+15>: requests 0..15 here; the measured ones follow.
  const order = [
    ...Array.from({ length: PENDING_WARMUP }, (_, i) => N + i),
    ...Array.from({ length: N }, (_, i) => i),
  ];
  for (const [i, userIndex] of order.entries()) {
    const socket = sockets[i % socketCount] as dgram.Socket;
    const identifier = Math.floor(i / socketCount);
    const user = userName('pending', userIndex);
    const { bytes, authenticator } = accessRequest(key, identifier, { user, password: passwordOf(user) });
    bySocket.get(socket)?.set(identifier, i);
    sent.push({ bytes, authenticator, answer: undefined, problem: undefined });
  }
  const transmit = (i: number) => {
    const request = sent[i] as Sent;
    (sockets[i % socketCount] as dgram.Socket).send(request.bytes, ours.port, '127.0.0.1');
  };

  /** The phone's answer to one pending request: a JWS over its id and nonce, by the user's device key. */
  const signAnswers = async (requests: Array<Record<string, unknown>>) =>
    Promise.all(
      requests.map(async (r) => {
        const index = Number(/(\d+)$/.exec(String(r.username))?.[1]);
        const phone = phones[index] as { privateKey: KeyObject };
        const payload = {
          rid: r.id,
          decision: 'approve',
          nonce: r.nonce,
          iat: Math.floor(Date.now() / 1000),
        };
        const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
          .setProtectedHeader({ alg: 'ES256', kid: String(r.deviceId), typ: 'mfa-answer+jwt' })
          .sign(phone.privateKey);
        return { id: String(r.id), jws };
      }),
    );
  const approve = async (answers: Array<{ id: string; jws: string }>) => {
    let next = 0;
    const worker = async () => {
      while (next < answers.length) {
        const { id, jws } = answers[next++] as { id: string; jws: string };
        const response = await fetch(
          `http://127.0.0.1:${ours.httpPort}/mobile/v1/requests/${encodeURIComponent(id)}/answer`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ answer: jws }),
          },
        );
        const body = (await response.json()) as { state?: string };
        if (response.status !== 200 || body.state !== 'approved')
          throw new Error(`answer to ${id}: HTTP ${response.status} ${JSON.stringify(body)}`);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  };
  const pendingRequests = async () =>
    (await ask(ours, { type: 'pending-list' }, 120_000)).requests as Array<Record<string, unknown>>;

  try {
    // Warm-up: a few whole cycles (request, pending, approval, Access-Accept) before the baseline.
    for (let i = 0; i < PENDING_WARMUP; i++) transmit(i);
    await waitUntil(async () => (await status()).pending >= PENDING_WARMUP, 30_000, 'the warm-up pushes');
    await approve(await signAnswers(await pendingRequests()));
    await waitUntil(async () => answered >= PENDING_WARMUP, 30_000, 'the warm-up answers');
    const warmBad = sent.slice(0, PENDING_WARMUP).filter((r) => r.answer !== CODE.AccessAccept || r.problem);
    if (warmBad.length > 0) throw new Error(`part 2 warm-up: ${warmBad.length} requests not accepted`);
    await waitUntil(async () => (await status()).inFlight === 0, 10_000, 'nothing in flight after warm-up');
    const base = await memory();

    // N requests, paced so that no more than WINDOW are on their way to the server at once (the
    // server counts a request in flight from the moment it reads the datagram): a burst of N
    // datagrams would overflow the socket's receive buffer. A stall (datagrams lost all the same)
    // retransmits what is not yet received, as a NAS would.
    const WINDOW = 256;
    const started = performance.now();
    let next = PENDING_WARMUP;
    let received = 0;
    let lastProgress = Date.now();
    let retransmitPasses = 0;
    const deadline = Date.now() + Math.max(120_000, N * 20);
    while (received < total) {
      const inFlight = Number((await ask(ours, { type: 'in-flight' })).inFlight);
      // Admitted by the server so far: answered, or in flight there.
      const admitted = answered + inFlight;
      if (admitted > received) {
        received = admitted;
        lastProgress = Date.now();
      }
      const room = Math.min(total, received + WINDOW) - next;
      for (let k = 0; k < room; k++) transmit(next++);
      if (received < next && Date.now() - lastProgress > 3000) {
        retransmitPasses++;
        for (let i = PENDING_WARMUP; i < next; i++) if (sent[i]?.answer === undefined) transmit(i);
        lastProgress = Date.now();
      }
      if (Date.now() > deadline)
        throw new Error(`only ${received - PENDING_WARMUP} of ${N} requests reached the server`);
      await sleep(room <= 0 ? 5 : 1);
    }
    await waitUntil(
      async () => (await status()).pending >= N || answered > PENDING_WARMUP,
      Math.max(120_000, N * 20),
      `${N} pending push requests`,
      100,
    );
    const toAllPendingMs = performance.now() - started;
    if (answered > PENDING_WARMUP) {
      const early = sent.slice(PENDING_WARMUP).filter((r) => r.answer !== undefined);
      throw new Error(
        `${early.length} requests were answered before any approval: ${[...new Set(early.map((r) => codeName(r.answer ?? 0)))].join(', ')}`,
      );
    }
    const held = await status();
    console.error(
      `  all ${N} pending after ${(toAllPendingMs / 1000).toFixed(1)} s (${(N / (toAllPendingMs / 1000)).toFixed(0)}/s); in flight ${held.inFlight}, pending pushes ${held.pending}`,
    );

    // Memory with N held, after a full GC; then the CPU the server spends just holding them.
    const heldMemory = await memory();
    if (opts['heap-snapshot']) {
      const file = resolvePath(opts['heap-snapshot']);
      await ask(ours, { type: 'heap-snapshot', file }, 300_000);
      console.error(`  heap snapshot of our server with ${N} pending: ${file}`);
    }
    const cpu0 = cpuMicros(ours.pid);
    const holdStart = performance.now();
    await sleep(3000);
    const holdCpuPercent = ((cpuMicros(ours.pid) - cpu0) / 1e3 / (performance.now() - holdStart)) * 100;

    // Retransmits of 100 pending requests (same bytes, same source port): nothing new may happen.
    const sample = Array.from(
      { length: Math.min(100, N) },
      (_, k) => PENDING_WARMUP + Math.floor((k * N) / Math.min(100, N)),
    );
    for (const i of sample) transmit(i);
    await sleep(1000);
    const afterRetransmits = await status();
    const retransmitsNewPushes = afterRetransmits.total - held.total;
    const retransmitsAnswered = answered - PENDING_WARMUP;
    if (retransmitsNewPushes !== 0 || afterRetransmits.pending !== held.pending || retransmitsAnswered !== 0)
      throw new Error(
        `retransmits changed something: ${retransmitsNewPushes} new pushes, pending ${held.pending} → ${afterRetransmits.pending}, ${retransmitsAnswered} answered`,
      );
    console.error(`  ${sample.length} retransmits: no new push request, no answer (still pending)`);

    // The phones approve: signing is theirs (not timed); the server verifies, settles and answers.
    const answers = await signAnswers(await pendingRequests());
    if (answers.length !== N) throw new Error(`${answers.length} pending requests listed, not ${N}`);
    const answerStart = performance.now();
    await approve(answers);
    await waitUntil(async () => answered >= total, Math.max(120_000, N * 20), 'every Access-Accept', 20);
    const answerMs = performance.now() - answerStart;
    const measured = sent.slice(PENDING_WARMUP);
    const accepted = measured.filter((r) => r.answer === CODE.AccessAccept && !r.problem).length;
    await waitUntil(async () => (await status()).inFlight === 0, 10_000, 'nothing in flight').catch(
      () => undefined,
    );
    const inFlightAfter = (await status()).inFlight;
    const afterMemory = await memory();
    console.error(
      `  all approved over HTTP and answered in ${(answerMs / 1000).toFixed(1)} s; ${accepted} Access-Accept, in flight afterwards ${inFlightAfter}`,
    );
    return {
      requests: N,
      sockets: socketCount,
      setupMs,
      toAllPendingMs,
      retransmitPasses,
      heapBaselineMB: mb(base.heapUsed),
      heapHeldMB: mb(heldMemory.heapUsed - base.heapUsed),
      heapPerPendingKB: (heldMemory.heapUsed - base.heapUsed) / 1024 / N,
      rssHeldMB: mb(heldMemory.rss - base.rss),
      rssPerPendingKB: (heldMemory.rss - base.rss) / 1024 / N,
      externalHeldMB: mb(heldMemory.external - base.external),
      holdCpuPercent,
      retransmitsSent: sample.length,
      retransmitsNewPushes,
      retransmitsAnswered,
      answerMs,
      accepted,
      notAccepted: N - accepted,
      inFlightAfter,
      heapAfterAnsweredMB: mb(afterMemory.heapUsed - base.heapUsed),
    };
  } finally {
    for (const socket of sockets) socket.close();
    await stopChild(ours.proc, 5000);
  }
}

function reportPending(r: PendingResult): void {
  console.log(`
${r.requests} pending out-of-band requests (our server, one client, ${r.sockets} NAS sockets; setup ${(r.setupMs / 1000).toFixed(1)} s)
time to all pending     ${(r.toAllPendingMs / 1000).toFixed(1)} s (${(r.requests / (r.toAllPendingMs / 1000)).toFixed(0)} requests/s: LDAP search + bind, push opened, waiter held)${r.retransmitPasses ? `; ${r.retransmitPasses} retransmit passes after stalls` : ''}
heap held               ${r.heapHeldMB.toFixed(1)} MB (${r.heapPerPendingKB.toFixed(2)} KB per pending request; baseline ${r.heapBaselineMB.toFixed(1)} MB), after a full GC
RSS held                ${r.rssHeldMB.toFixed(1)} MB (${r.rssPerPendingKB.toFixed(2)} KB per pending request; heap, external ${r.externalHeldMB.toFixed(1)} MB, SQLite cache, allocator)
CPU while holding them  ${r.holdCpuPercent.toFixed(1)}% of a core (timers, the store recheck of waiters every 2 s)
retransmits             ${r.retransmitsSent} resent: ${r.retransmitsNewPushes} new push requests, ${r.retransmitsAnswered} answered early
time to answer all      ${(r.answerMs / 1000).toFixed(1)} s (${(r.requests / (r.answerMs / 1000)).toFixed(0)}/s: HTTP answer verified and settled, waiter woken, Access-Accept sent)
answers                 ${r.accepted} Access-Accept, ${r.notAccepted} other; in flight afterwards ${r.inFlightAfter}; heap ${r.heapAfterAnsweredMB.toFixed(1)} MB above baseline (answers cached for retransmits)`);
}

// ------------------------------------------------------------------ main

const deadline = setTimeout(() => {
  console.error(`\ntime limit of ${TIME_LIMIT_S} s reached: stopping everything`);
  stopEverything(3);
}, TIME_LIMIT_S * 1000);
const interrupted = () => {
  console.error('\ninterrupted: stopping everything');
  stopEverything(130);
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);

let failed = false;
try {
  if (SKIP_FREERADIUS && PART1.length > 0)
    console.error(`FreeRADIUS baseline skipped: ${SKIP_FREERADIUS}. Measuring our server alone.`);
  console.error(
    `plan: ${PART1.length ? `${PART1.join(', ')}: ${ROUNDS} rounds × (ours${SKIP_FREERADIUS ? '' : ', FreeRADIUS'}), ${WARMUP} s + ${DURATION} s each` : 'no part 1'}; ${PENDING ? `then ${PENDING} pending` : 'no part 2'}; ${pinNote}; time limit ${TIME_LIMIT_S.toFixed(0)} s`,
  );
  // 32 characters, as a NAS secret from `mfa-gateway secrets generate` would be at least.
  const secret = randomBytes(24).toString('base64url');
  const seed = randomBytes(20);
  const slapd = await startSlapd({
    pap: PART1.includes('pap') ? USERS : 0,
    challenge: PART1.includes('challenge') ? USERS : 0,
    pending: PENDING ? PENDING + PENDING_WARMUP : 0,
  });
  console.error(`slapd: ${slapd.url} (pid ${slapd.pid})`);
  const part1 = await partOne(slapd, secret, seed);
  const part2 = await partTwo(slapd, secret);
  if (part2) reportPending(part2);
  if (part1?.runs.some((r) => r.wrong + r.timeouts + r.unverifiable > 0)) {
    console.error('\nsome requests got a wrong answer or none: these figures are not valid');
    failed = true;
  }
  if (part2 && (part2.notAccepted > 0 || part2.inFlightAfter > 0)) failed = true;

  const lines: string[] = [];
  for (const ratio of part1?.ratios ?? []) {
    const what = ratio.workload === 'pap' ? 'PAP accept' : 'PAP + challenge (1st leg)';
    lines.push(
      ratio.freeradius && ratio.perCoreRatio !== undefined
        ? `RADIUS ${what} vs FreeRADIUS 3 (same slapd, one core each): ratio (ours / FreeRADIUS) ${ratio.perCoreRatio.toFixed(2)} per core (${ratio.ours.perCore.toFixed(0)} vs ${ratio.freeradius.perCore.toFixed(0)} req/s per core; throughput ${ratio.ours.rps.toFixed(0)} vs ${ratio.freeradius.rps.toFixed(0)} req/s)`
        : `RADIUS ${what}: ours ${ratio.ours.rps.toFixed(0)} req/s, ${ratio.ours.perCore.toFixed(0)} req/s per core (no FreeRADIUS baseline)`,
    );
  }
  if (part2)
    lines.push(
      `RADIUS out-of-band: ${part2.requests} pending at once in ${(part2.toAllPendingMs / 1000).toFixed(1)} s, heap +${part2.heapHeldMB.toFixed(1)} MB (${part2.heapPerPendingKB.toFixed(2)} KB each), RSS +${part2.rssHeldMB.toFixed(1)} MB; all approved and answered in ${(part2.answerMs / 1000).toFixed(1)} s`,
    );
  console.log(`\nsummary (node ${process.version}, ${CORES} cores):\n${lines.join('\n')}`);
  if (opts.json)
    writeFileSync(
      opts.json,
      `${JSON.stringify(
        {
          node: process.version,
          pinning: pinNote,
          duration: DURATION,
          warmup: WARMUP,
          rounds: ROUNDS,
          concurrency: CONCURRENCY,
          users: USERS,
          freeradius: SKIP_FREERADIUS ? `skipped: ${SKIP_FREERADIUS}` : 'measured',
          runs: part1?.runs ?? [],
          ratios: part1?.ratios ?? [],
          pending: part2 ?? null,
        },
        null,
        2,
      )}\n`,
    );
} catch (error) {
  failed = true;
  console.error('benchmark failed:', error);
} finally {
  await Promise.all(children.map((proc) => stopChild(proc, 5000)));
  clearTimeout(deadline);
  process.off('SIGINT', interrupted);
  process.off('SIGTERM', interrupted);
}
process.exitCode = failed ? 1 : 0;
