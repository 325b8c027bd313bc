// Benchmark: 10,000 pending push requests held at once, then answered. Not a test (never run by
// `npm test`); run it with `npm run bench:push` or `node --expose-gc bench/push.bench.ts`.
//
// The real core and SQLite store (buildServices from src/main.ts, a throwaway config and store):
//   1. N users, each with a registered device (setup, not measured);
//   2. open: N push requests through `push.open` (the path every sign-in takes), each then held by
//      a waiter (`push.waitForAnswer`, as a gateway page, a Basic request or RADIUS would);
//      heap growth measured after a full GC, per request;
//   3. answer: every request approved with a device-signed JWS through `push.answer` (signature,
//      nonce, number, single-use settle), 64 at a time; every waiter must wake with 'approved';
//   4. baseline, in the same process on the same store: the store's own create + settle for N
//      requests (no signatures, no waiters). Printed: the answer phase against this baseline, as a ratio.
// Bounded: N and the concurrency are fixed by the options; an overall time limit ends a stuck run.

import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CompactSign } from 'jose';
import pino from 'pino';
import { loadConfig } from '../src/config/load.ts';
import type { PushRequest, UserRecord } from '../src/core/ports.ts';
import { buildServices } from '../src/main.ts';

const USAGE = `usage: node --expose-gc bench/push.bench.ts [options]
  --requests N      pending requests held at once (default 10000)
  --concurrency N   answers in flight at once (default 64)
  --json FILE       also write the results as JSON
  --time-limit S    stop after this long whatever happens (default 600)`;

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '64' },
    json: { type: 'string' },
    'time-limit': { type: 'string', default: '600' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
// A heap figure without a full GC first measures garbage; re-run with the flag rather than guess.
if (typeof globalThis.gc !== 'function') {
  const run = spawnSync(process.execPath, ['--expose-gc', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
const gc = globalThis.gc as () => void;
const N = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
if (!Number.isInteger(N) || N < 1 || N > 100_000 || !Number.isInteger(CONCURRENCY) || CONCURRENCY < 1)
  throw new Error('--requests must be 1..100000 and --concurrency a positive integer');
const limit = setTimeout(() => {
  console.error(`time limit of ${values['time-limit']} s reached; stopping`);
  process.exit(2);
}, Number(values['time-limit']) * 1000);

const dir = mkdtempSync(join(tmpdir(), 'mfa-push-bench-'));
const encoder = new TextEncoder();
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const heap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};
const ctx = { channel: 'web' as const, clientAddress: '192.0.2.10', application: 'intranet' };

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

try {
  writeFileSync(join(dir, 'users.yaml'), 'users: []\n');
  writeFileSync(
    join(dir, 'config.yaml'),
    `server: { listen: [{ host: 127.0.0.1, port: 1 }] }
store: { sqlite: { path: mfa.db }, encryptionKey: ${randomBytes(32).toString('base64')} }
directory: { type: file, file: { path: users.yaml } }
portal: { methods: [push, totp], mobileApp: { allow: true } }
mobile: { requestTtlSeconds: 600 }
log: { level: silent }
`,
  );
  const services = await buildServices(loadConfig(join(dir, 'config.yaml')), {
    logger: pino({ level: 'silent' }),
  });
  const { store, push } = services;

  // 1. Setup: users and devices.
  const setupStart = performance.now();
  const users: Array<{ user: UserRecord; deviceId: string; key: KeyObject }> = [];
  for (let i = 0; i < N; i++) {
    const user = await store.createUser(
      {
        username: `user${i}`,
        uniqueId: `u-${i}`,
        displayName: null,
        email: null,
        phones: [],
        defaultMethod: 'push',
        language: null,
        status: 'enabled',
        pinHash: null,
        fromDirectory: false,
      },
      Date.now(),
    );
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const device = await store.addMobileDevice(
      {
        userId: user.id,
        name: 'phone',
        publicKey: { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) },
        createdAt: Date.now(),
      },
      {
        label: 'Mobile app: phone',
        secret: randomBytes(20),
        params: { algorithm: 'sha1', digits: 6, period: 30 },
      },
    );
    users.push({ user, deviceId: device.id, key: privateKey });
  }
  const setupMs = performance.now() - setupStart;

  // 2. Open N requests and hold a waiter on each.
  const heapBefore = heap();
  const openStart = performance.now();
  const opened: PushRequest[] = [];
  await inBatches(users, CONCURRENCY, async ({ user }) => {
    opened.push(await push.open(user, ctx));
  });
  const waiters = opened.map((r) => push.waitForAnswer(r.id, 600_000));
  // Each waiter reads its request once before it joins the hub; wait (bounded) until all have.
  for (let i = 0; i < 600 && services.pushHub.size().requests < N; i++)
    await new Promise((r) => setTimeout(r, 50));
  const openMs = performance.now() - openStart;
  const heapHeld = heap() - heapBefore;
  const held = services.pushHub.size();

  // The phones sign their answers (their cost, not the server's): outside the measured phase.
  const byUser = new Map(users.map((u) => [u.user.id, u]));
  const answers = await Promise.all(
    opened.map(async (request) => {
      const phone = byUser.get(request.userId);
      if (!phone) throw new Error('no phone');
      const payload = {
        rid: request.id,
        decision: 'approve',
        number: request.number,
        nonce: request.nonce,
        iat: Math.floor(Date.now() / 1000),
      };
      const jws = await new CompactSign(encoder.encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg: 'ES256', kid: phone.deviceId, typ: 'mfa-answer+jwt' })
        .sign(phone.key);
      return { id: request.id, jws };
    }),
  );

  // 3. Answer them all; every waiter must wake approved.
  const answerStart = performance.now();
  await inBatches(answers, CONCURRENCY, async ({ id, jws }) => {
    const outcome = await push.answer(id, jws, { channel: 'mobile', clientAddress: '198.51.100.1' });
    if (outcome.state !== 'approved') throw new Error(`request ${id}: ${outcome.state}`);
  });
  const states = await Promise.all(waiters);
  const answerMs = performance.now() - answerStart;
  if (states.some((s) => s !== 'approved')) throw new Error('a waiter did not wake approved');
  const heapAfter = heap() - heapBefore;

  // 4. Baseline: the store alone, create + settle, for the same number of requests.
  const baseStart = performance.now();
  await inBatches(users, CONCURRENCY, async ({ user }) => {
    const id = randomBytes(18).toString('base64url');
    const now = Date.now();
    await store.createPushRequest({
      id,
      userId: user.id,
      username: user.username,
      challengeId: null,
      channel: 'web',
      application: 'bench',
      clientAddress: '192.0.2.10',
      numberMatching: true,
      number: 42,
      decoys: [17, 93],
      nonce: id,
      pinRequired: false,
      createdAt: now,
      expiresAt: now + 600_000,
    });
    await store.settlePushRequest(id, { state: 'approved', reason: null, deviceId: null, at: Date.now() });
  });
  const baselineMs = performance.now() - baseStart;

  const results = {
    requests: N,
    concurrency: CONCURRENCY,
    setupSeconds: Math.round(setupMs / 100) / 10,
    openMs: Math.round(openMs),
    openPerSecond: Math.round(N / (openMs / 1000)),
    heldWaiters: held.requests,
    heapHeldMB: mb(heapHeld),
    heapPerPendingBytes: Math.round(heapHeld / N),
    answerMs: Math.round(answerMs),
    answersPerSecond: Math.round(N / (answerMs / 1000)),
    heapAfterAnsweredMB: mb(heapAfter),
    waitersLeft: services.pushHub.size().requests,
    baselineStoreMs: Math.round(baselineMs),
    answerVsStoreBaseline: Math.round((answerMs / baselineMs) * 100) / 100,
  };
  console.log(
    `pending requests held: ${N} (waiters ${held.requests}), opened in ${results.openMs} ms (${results.openPerSecond}/s)`,
  );
  console.log(
    `heap held by them: ${results.heapHeldMB} MB (${results.heapPerPendingBytes} bytes each); after answering: ${results.heapAfterAnsweredMB} MB, waiters left ${results.waitersLeft}`,
  );
  console.log(
    `answered all (verify JWS, settle once, wake waiter): ${results.answerMs} ms (${results.answersPerSecond}/s)`,
  );
  console.log(
    `baseline, store create+settle only: ${results.baselineStoreMs} ms; answer phase / baseline = ${results.answerVsStoreBaseline}`,
  );
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  await services.close();
} finally {
  clearTimeout(limit);
  rmSync(dir, { recursive: true, force: true });
}
