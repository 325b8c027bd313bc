// Benchmark: the gateway's forwarding path against a bare fastify + @fastify/reply-from proxy.
// Not a test (never run by `npm test`); run it with `npm run bench` or `node bench/gateway.bench.ts`.
//
// Three servers, each a child process on 127.0.0.1 with an OS-picked port, so that none of them
// shares an event loop with the load generator (autocannon, in this process):
//   upstream  node:http answering a fixed 1 KB body with keep-alive  (bench/servers/upstream.ts)
//   bare      fastify 5 + @fastify/reply-from, the gateway's undici options (bench/servers/bare-proxy.ts)
//   gateway   the real service, one two_factor app (bench/servers/gateway.ts)
// Every request, to all three, carries a valid level-2 session cookie minted by the gateway child,
// so the gateway runs its whole check (canonical request, policy, session, identity headers).
// Order: upstream once, then bare/gateway alternating `--rounds` times (noise on a small shared
// machine), each run after its own warm-up. Prints requests/s, p50/p99 latency and the ratios
// bare/upstream and gateway/bare (median of the rounds); the target is gateway ≥ 0.95 × bare.
// `--profile` also records a CPU profile of the bare proxy and the gateway over each measured run
// and prints where the time went, and where the gateway spends more than the bare proxy.
// Every child is stopped in `finally`, and an overall time limit ends a stuck run.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatDiff, formatSummary, summarizeProfile } from './cpu-profile.ts';
import { stopChild } from './stop-child.ts';

const USAGE = `usage: node bench/gateway.bench.ts [options]
  --duration S       seconds measured per run (default 10)
  --warmup S         seconds of warm-up before each run, not measured (default 2)
  --connections N    concurrent keep-alive connections (default 50)
  --rounds N         bare/gateway pairs, alternating (default 3)
  --path P           request target (default /app/page?q=1)
  --rate N           fixed total request rate (autocannon overallRate) instead of as fast as possible: compares
                     CPU per request at the same load, which moves less with other work on the machine
  --cookie-age S     send a session cookie last refreshed S seconds ago (default 0: fresh each run);
                     over 60 the gateway re-issues it on every request, as for a client that ignores Set-Cookie
  --profile          record CPU profiles of the bare proxy and the gateway over each measured run and summarise them
  --profile-dir DIR  where the .cpuprofile files go (default: a new temp folder)
  --json FILE        also write the results as JSON
  --time-limit S     stop everything after this long whatever happens (default: from the plan, +60 s)`;

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    path: { type: 'string', default: '/app/page?q=1' },
    'cookie-age': { type: 'string', default: '0' },
    rate: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
    json: { type: 'string' },
    'time-limit': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

function positive(name: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    console.error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, not '${text}'\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const DURATION = positive('duration', opts.duration, true);
const WARMUP = positive('warmup', opts.warmup, true);
const CONNECTIONS = positive('connections', opts.connections, true);
const ROUNDS = positive('rounds', opts.rounds, true);
const PATH = opts.path;
if (!PATH.startsWith('/') || PATH.startsWith('/_mfa/') || PATH.startsWith('/_bench/')) {
  console.error('--path must start with / and not be under /_mfa/ or /_bench/');
  process.exit(2);
}
const COOKIE_AGE = Number(opts['cookie-age']);
if (!Number.isInteger(COOKIE_AGE) || COOKIE_AGE < 0 || COOKIE_AGE > 1700) {
  console.error('--cookie-age must be an integer from 0 to 1700 (the idle timeout is 1800 s)');
  process.exit(2);
}
const RATE = opts.rate === undefined ? undefined : positive('rate', opts.rate, true);
const RUNS = 1 + 2 * ROUNDS;
const TIME_LIMIT_S = opts['time-limit']
  ? positive('time-limit', opts['time-limit'], false)
  : RUNS * (DURATION + WARMUP + 3) + 60;
const PROFILE_DIR = !opts.profile
  ? undefined
  : opts['profile-dir']
    ? resolve(opts['profile-dir'])
    : mkdtempSync(join(tmpdir(), 'mfa-bench-prof-'));
if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });

// ------------------------------------------------------------------ autocannon (no bundled types)

interface Histogram {
  average: number;
  stddev: number;
  p50: number;
  p99: number;
  total: number;
}

interface AutocannonResult {
  requests: Histogram;
  latency: Histogram;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
}

type Autocannon = (options: {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  timeout: number;
  headers?: Record<string, string>;
  overallRate?: number;
}) => Promise<AutocannonResult> & { stop(): void };

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// ------------------------------------------------------------------ children

type Target = 'upstream' | 'bare' | 'gateway';

interface Server {
  name: Target;
  proc: ChildProcess;
  port: number;
  origin: string;
}

const children: ChildProcess[] = [];
let nextAsk = 1;

function startServer(name: Target, script: string, args: string[] = []): Promise<Server> {
  const file = fileURLToPath(new URL(`./servers/${script}`, import.meta.url));
  const proc = spawn(process.execPath, [file, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(proc);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within 60 s`)), 60_000);
    const onExit = (code: number | null, signal: string | null) =>
      fail(new Error(`${name} exited (${code ?? signal}) before it was ready`));
    const onMessage = (message: { type?: string; port?: number }) => {
      if (message.type !== 'ready' || typeof message.port !== 'number') return;
      done();
      resolve({ name, proc, port: message.port, origin: `http://127.0.0.1:${message.port}` });
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

/** A request to a child over IPC, answered with the same id. */
function ask(
  server: Server,
  message: { type: string; file?: string; ageSeconds?: number },
): Promise<Record<string, unknown>> {
  const id = nextAsk++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`${server.name} did not answer ${message.type}`)),
      10_000,
    );
    const onMessage = (answer: { type?: string; id?: number; error?: string }) => {
      if (answer.type !== 'answer' || answer.id !== id) return;
      if (answer.error) finish(new Error(`${server.name}: ${answer.error}`));
      else finish(undefined, answer);
    };
    const onExit = () => finish(new Error(`${server.name} exited`));
    function finish(error: Error | undefined, answer?: Record<string, unknown>) {
      clearTimeout(timer);
      server.proc.off('message', onMessage);
      server.proc.off('exit', onExit);
      if (error) reject(error);
      else resolve(answer ?? {});
    }
    server.proc.on('message', onMessage);
    server.proc.once('exit', onExit);
    server.proc.send({ ...message, id });
  });
}

/** On a time limit or an interrupt: SIGTERM, SIGKILL after 2 s, and this process ends in any case. */
function stopEverything(code: number): void {
  current?.stop();
  const exit = () => process.exit(code);
  setTimeout(exit, 3000).unref();
  Promise.all(children.map((proc) => stopChild(proc, 2000))).finally(exit);
}

/** The gateway child's config and store; removed when this process exits, however it ends. */
const WORK_DIR = mkdtempSync(join(tmpdir(), 'mfa-bench-'));
process.on('exit', () => rmSync(WORK_DIR, { recursive: true, force: true }));

// ------------------------------------------------------------------ checks and runs

async function mintCookie(gateway: Server, ageSeconds = 0): Promise<string> {
  const { cookie } = await ask(gateway, { type: 'mint', ageSeconds });
  if (typeof cookie !== 'string') throw new Error('gateway: no cookie minted');
  return cookie;
}

/** Fails unless every target answers the load path with the upstream's body, and the gateway checks. */
async function sanityCheck(
  upstream: Server,
  bare: Server,
  gateway: Server,
  cookie: string,
  bodyBytes: number,
) {
  for (const [server, headers] of [
    [upstream, {}],
    [bare, {}],
    [gateway, { cookie }],
  ] as const) {
    const response = await fetch(`${server.origin}${PATH}`, { headers, redirect: 'manual' });
    const body = await response.arrayBuffer();
    if (response.status !== 200 || body.byteLength !== bodyBytes)
      throw new Error(`${server.name}: ${PATH} answered ${response.status} with ${body.byteLength} bytes`);
  }
  const anonymous = await fetch(`${gateway.origin}${PATH}`, { redirect: 'manual' });
  await anonymous.arrayBuffer();
  if (anonymous.status !== 302 || !anonymous.headers.get('location')?.startsWith('/_mfa/login'))
    throw new Error(
      `gateway: a request without a session answered ${anonymous.status}, not a sign-in redirect`,
    );
  const echo = await fetch(`${gateway.origin}/_bench/echo`, {
    headers: { cookie: `${cookie}; app_cookie=1`, 'remote-user': 'mallory' },
  });
  const seen = (await echo.json()) as { headers: Record<string, string> };
  if (
    echo.status !== 200 ||
    seen.headers['remote-user'] !== 'alice' ||
    seen.headers.cookie !== 'app_cookie=1'
  )
    throw new Error(`gateway: the upstream saw ${JSON.stringify(seen.headers)}`);
}

interface Run {
  target: Target;
  round: number;
  rps: number;
  rpsStddev: number;
  p50: number;
  p99: number;
  meanMs: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU time (user + system) the server under test used per request during the measured run, µs. */
  cpuUsPerReq: number;
  /** The same for the upstream (for the upstream run itself: equal to cpuUsPerReq). */
  upstreamCpuUsPerReq: number;
}

async function cpuMicros(server: Server): Promise<number> {
  const { user, system } = await ask(server, { type: 'usage' });
  return Number(user) + Number(system);
}

let current: ReturnType<Autocannon> | undefined;

async function load(
  url: string,
  seconds: number,
  headers: Record<string, string>,
): Promise<AutocannonResult> {
  current = autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    headers,
    ...(RATE ? { overallRate: RATE } : {}),
  });
  try {
    return await current;
  } finally {
    current = undefined;
  }
}

/** The proxies' profiles, one per measured run, with the requests served meanwhile. */
const profiles: { target: Target; round: number; file: string; requests: number }[] = [];

/** Warm-up (discarded), then the measured run (profiled with --profile, except the upstream's). */
async function measure(server: Server, upstream: Server, round: number, headers: Record<string, string>) {
  const url = `${server.origin}${PATH}`;
  await load(url, WARMUP, headers);
  const profiled = PROFILE_DIR !== undefined && server.name !== 'upstream';
  if (profiled) await ask(server, { type: 'profile-start' });
  const before = await Promise.all([cpuMicros(server), cpuMicros(upstream)]);
  const result = await load(url, DURATION, headers);
  const after = await Promise.all([cpuMicros(server), cpuMicros(upstream)]);
  if (PROFILE_DIR && profiled) {
    const file = join(PROFILE_DIR, `${server.name}-${round}.cpuprofile`);
    await ask(server, { type: 'profile-stop', file });
    profiles.push({ target: server.name, round, file, requests: result.requests.total });
  }
  const perRequest = (i: 0 | 1) => ((after[i] ?? 0) - (before[i] ?? 0)) / Math.max(1, result.requests.total);
  const run: Run = {
    target: server.name,
    round,
    rps: result.requests.average,
    rpsStddev: result.requests.stddev,
    p50: result.latency.p50,
    p99: result.latency.p99,
    meanMs: result.latency.average,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    cpuUsPerReq: perRequest(0),
    upstreamCpuUsPerReq: perRequest(1),
  };
  const tag = run.target === 'upstream' ? 'upstream' : `${run.target} #${round}`;
  console.error(
    `  ${tag.padEnd(11)} ${run.rps.toFixed(0).padStart(7)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms  ${run.cpuUsPerReq.toFixed(1)} µs CPU/req` +
      (run.non2xx || run.errors ? `  non2xx ${run.non2xx} errors ${run.errors}` : ''),
  );
  return run;
}

// ------------------------------------------------------------------ report

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

function report(runs: Run[]) {
  const upstream = runs.find((r) => r.target === 'upstream');
  const bare = runs.filter((r) => r.target === 'bare');
  const gateway = runs.filter((r) => r.target === 'gateway');
  const rows = [
    [
      'run',
      'target',
      'req/s',
      '±sd',
      'p50 ms',
      'p99 ms',
      'mean ms',
      'requests',
      'non2xx',
      'errors',
      'CPU µs/req',
      'upstream µs/req',
    ],
    ...runs.map((r) => [
      r.target === 'upstream' ? '-' : String(r.round),
      r.target,
      r.rps.toFixed(0),
      r.rpsStddev.toFixed(0),
      String(r.p50),
      String(r.p99),
      r.meanMs.toFixed(2),
      String(r.requests),
      String(r.non2xx),
      String(r.errors + r.timeouts),
      r.cpuUsPerReq.toFixed(1),
      r.upstreamCpuUsPerReq.toFixed(1),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  const lines = rows.map((row) =>
    row.map((cell, i) => (i < 2 ? cell.padEnd : cell.padStart).call(cell, widths[i] ?? 0)).join('  '),
  );
  const pairRatios = gateway.map((g) => g.rps / (bare.find((b) => b.round === g.round)?.rps ?? Number.NaN));
  const bareMedian = median(bare.map((r) => r.rps));
  const gatewayMedian = median(gateway.map((r) => r.rps));
  const bareOverUpstream = bareMedian / (upstream?.rps ?? Number.NaN);
  const gatewayOverBare = median(pairRatios);
  const bareCpu = median(bare.map((r) => r.cpuUsPerReq));
  const gatewayCpu = median(gateway.map((r) => r.cpuUsPerReq));
  const cpuRatios = gateway.map(
    (g) => (bare.find((b) => b.round === g.round)?.cpuUsPerReq ?? Number.NaN) / g.cpuUsPerReq,
  );
  const bareCpuOverGatewayCpu = median(cpuRatios);
  console.log(
    `\nGET ${PATH}, ${CONNECTIONS} connections, ${DURATION} s per run after ${WARMUP} s warm-up, ${RATE ? `fixed rate ${RATE} req/s, ` : ''}cookie age ${COOKIE_AGE} s, node ${process.version}\n`,
  );
  console.log(lines.join('\n'));
  console.log(`
median req/s      upstream ${upstream?.rps.toFixed(0)}   bare ${bareMedian.toFixed(0)}   gateway ${gatewayMedian.toFixed(0)}
median p50/p99 ms bare ${median(bare.map((r) => r.p50))}/${median(bare.map((r) => r.p99))}   gateway ${median(gateway.map((r) => r.p50))}/${median(gateway.map((r) => r.p99))}
bare / upstream   ${bareOverUpstream.toFixed(3)}
gateway / bare    ${gatewayOverBare.toFixed(3)} (median of the rounds: ${pairRatios.map((r) => r.toFixed(3)).join(', ')})
target            gateway ≥ 0.95 × bare: ${
    RATE
      ? `not measurable at a fixed rate; by CPU per request ${bareCpuOverGatewayCpu >= 0.95 ? 'met' : 'NOT met'}`
      : gatewayOverBare >= 0.95
        ? 'met'
        : 'NOT met'
  }
CPU per request   bare ${bareCpu.toFixed(1)} µs   gateway ${gatewayCpu.toFixed(1)} µs (+${(gatewayCpu - bareCpu).toFixed(1)} µs)
bare CPU / gateway CPU ${bareCpuOverGatewayCpu.toFixed(3)} (median of the rounds: ${cpuRatios.map((r) => r.toFixed(3)).join(', ')})
  (the throughput ratio a CPU-bound proxy would reach; much less sensitive to other load on the machine)`);
  return {
    bareOverUpstream,
    gatewayOverBare,
    pairRatios,
    bareCpu,
    gatewayCpu,
    bareCpuOverGatewayCpu,
    cpuRatios,
  };
}

/** The last round's profiles of both proxies, and where the gateway spends more per request. */
function printProfiles(): void {
  const last = (target: Target) => profiles.filter((p) => p.target === target).at(-1);
  const bare = last('bare');
  const gateway = last('gateway');
  if (!bare || !gateway) return;
  const b = { summary: summarizeProfile(bare.file), requests: bare.requests, name: 'bare' };
  const g = { summary: summarizeProfile(gateway.file), requests: gateway.requests, name: 'gateway' };
  console.log('\n(figures above were measured under the profiler: slower than without it)');
  for (const [p, run] of [
    [b, bare],
    [g, gateway],
  ] as const)
    console.log(
      `\n${formatSummary(p.summary, { requests: p.requests, title: `${p.name}: ${run.file}`, top: 30 })}`,
    );
  console.log(`\n${formatDiff(b, g, 40)}`);
  console.log(`\nprofiles (open in Chrome DevTools or speedscope): ${profiles.map((p) => p.file).join(' ')}`);
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
const servers: Server[] = [];
try {
  if (COOKIE_AGE === 0 && WARMUP + DURATION >= 60)
    console.error(
      'note: runs of 60 s or more reach the cookie refresh: the gateway then re-encrypts on every request',
    );
  console.error(
    `plan: upstream, then ${ROUNDS} × (bare, gateway); ${WARMUP} s + ${DURATION} s each, ${CONNECTIONS} connections (about ${Math.ceil((RUNS * (WARMUP + DURATION)) / 60)} min)`,
  );
  const upstream = await startServer('upstream', 'upstream.ts');
  servers.push(upstream);
  const [bare, gateway] = await Promise.all([
    startServer('bare', 'bare-proxy.ts', ['--upstream', upstream.origin]),
    startServer('gateway', 'gateway.ts', ['--upstream', upstream.origin, '--dir', WORK_DIR]),
  ]);
  servers.push(bare, gateway);
  await sanityCheck(upstream, bare, gateway, await mintCookie(gateway), 1024);
  console.error(
    `servers: upstream ${upstream.origin}, bare ${bare.origin}, gateway ${gateway.origin}; checks passed`,
  );

  const runs: Run[] = [];
  // Every target gets the same request, a session cookie included: the upstream and the bare proxy
  // ignore it (the bare proxy forwards it), the gateway checks and strips it. A fresh cookie for
  // each run: its lastSeen is now, so the gateway never re-issues it mid-run (the refresh comes
  // after 60 s; autocannon would keep sending the old cookie and every request would re-encrypt).
  const fresh = async () => ({ cookie: await mintCookie(gateway, COOKIE_AGE) });
  runs.push(await measure(upstream, upstream, 0, await fresh()));
  for (let round = 1; round <= ROUNDS; round++) {
    runs.push(await measure(bare, upstream, round, await fresh()));
    runs.push(await measure(gateway, upstream, round, await fresh()));
  }
  const ratios = report(runs);
  if (runs.some((r) => r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)) {
    console.error('\nsome requests failed or were not 2xx: these figures are not valid');
    failed = true;
  }
  if (opts.json) {
    writeFileSync(
      opts.json,
      `${JSON.stringify({ path: PATH, connections: CONNECTIONS, duration: DURATION, warmup: WARMUP, node: process.version, runs, ...ratios }, null, 2)}\n`,
    );
  }
  if (PROFILE_DIR) printProfiles();
} catch (error) {
  failed = true;
  console.error('benchmark failed:', error);
} finally {
  current?.stop();
  await Promise.all(children.map((proc) => stopChild(proc, 5000)));
  clearTimeout(deadline);
  process.off('SIGINT', interrupted);
  process.off('SIGTERM', interrupted);
}
process.exitCode = failed ? 1 : 0;
