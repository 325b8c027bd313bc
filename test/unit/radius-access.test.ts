// The RADIUS modes over the real core with memory ports and a fixed clock: what each mode asks
// for, and the properties of State, out-of-band waits, the re-authentication cache and fail-open.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate } from 'otplib';
import type { RadiusClientConfig } from '../../src/config/schema.ts';
import type { RequestContext } from '../../src/core/ports.ts';
import { base32Decode } from '../../src/core/secrets/base32.ts';
import { type AccessAnswer, createAccessHandler } from '../../src/radius/access-handler.ts';
import { createChallengeStates } from '../../src/radius/challenge-states.ts';
import { createClientTable, type RadiusClient } from '../../src/radius/clients.ts';
import { ATTR } from '../../src/radius/packet.ts';
import { splitPasscode } from '../../src/radius/passcode.ts';
import { createReauthCache } from '../../src/radius/reauth-cache.ts';
import { type CoreFixture, coreFixture } from '../helpers/core-fixture.ts';

const NAS = '10.0.0.1';

function clientConfig(overrides: Partial<RadiusClientConfig> = {}): RadiusClientConfig {
  return {
    name: 'vpn',
    address: `${NAS}/32`,
    secret: 'a-long-test-secret-of-the-vpn',
    mode: 'challenge',
    requireMessageAuthenticator: true,
    oathFallback: true,
    failmode: 'closed',
    challenge: { replyMessage: 'Code?', ttlSeconds: 60 },
    outOfBandWaitSeconds: 5,
    append: { delimiter: ',' },
    reauthSeconds: 0,
    replyAttributes: [
      { attribute: 'Session-Timeout', value: 3600, groups: [] },
      { attribute: 'Filter-Id', value: 'staff-acl', groups: ['Staff'] },
    ],
    ...overrides,
  };
}

function radiusFixture(
  client: Partial<RadiusClientConfig> = {},
  core: Parameters<typeof coreFixture>[0] = {},
) {
  const f = coreFixture({
    ...core,
    enrollment: { methods: ['totp', 'push'], ...core.enrollment },
  });
  const [vpn] = createClientTable([clientConfig(client)]).clients;
  assert.ok(vpn);
  const handler = createAccessHandler({
    authenticator: f.authenticator,
    push: f.push,
    audit: f.audit,
    clock: f.clock,
    states: createChallengeStates({ max: 100, clock: f.clock }),
    reauth: createReauthCache({ max: 100, clock: f.clock }),
    totpDigits: 6,
  });
  const stop = new AbortController();
  const ctx = (callingStation?: string): RequestContext => ({
    channel: 'radius',
    clientAddress: callingStation ?? NAS,
    application: vpn.application,
    nas: { client: vpn.name, address: NAS },
  });
  const ask = (
    username: string,
    password: string | undefined,
    options: { state?: Buffer; client?: RadiusClient; signal?: AbortSignal } = {},
  ) =>
    handler.handle({
      client: options.client ?? vpn,
      username,
      password,
      state: options.state,
      ctx: ctx(),
      signal: options.signal ?? stop.signal,
    });
  return { f, vpn, handler, ask, ctx };
}

async function withTotp(f: CoreFixture, username = 'alice') {
  await f.userAdmin.add({ username }, f.admin);
  const enrollment = await f.userAdmin.enrollTotp(username, f.admin);
  const seed = base32Decode(enrollment.secretBase32);
  return () => generate({ secret: seed, epoch: Math.floor(f.clock.now() / 1000) });
}

function challenged(answer: AccessAnswer): Buffer {
  assert.equal(answer.kind, 'challenge', JSON.stringify(answer));
  assert.ok(answer.kind === 'challenge');
  return answer.state;
}

/** Approves (or denies) the user's one pending push as the phone would, once it exists. */
async function answerPhone(
  f: CoreFixture,
  phone: Awaited<ReturnType<CoreFixture['activateDevice']>>,
  decision: 'approve' | 'deny',
) {
  for (let i = 0; i < 200; i++) {
    const [view] = await f.push.requestsForDevice(phone.device, 0);
    if (view) {
      const request = await f.push.get(view.id);
      assert.ok(request);
      await f.push.answer(view.id, await phone.answer(request, decision), {
        channel: 'mobile',
        clientAddress: '100.64.0.9',
      });
      return request;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('test: no push reached the phone');
}

describe('RADIUS challenge mode', () => {
  it('password, then Access-Challenge, then the code: accepted with the reply attributes of the groups', async () => {
    const { f, ask } = radiusFixture();
    const code = await withTotp(f);
    const state = challenged(await ask('alice', 'alice-pw'));
    assert.ok(state.length >= 16, 'State has at least 16 random bytes');
    const done = await ask('alice', await code(), { state });
    assert.equal(done.kind, 'accept');
    assert.ok(done.kind === 'accept');
    assert.deepEqual(
      done.attributes.map((a) => a.type),
      [ATTR.SessionTimeout, ATTR.FilterId],
      'Filter-Id only for members of Staff (groups compare without case)',
    );
  });

  it('a State works once', async () => {
    const { f, ask } = radiusFixture();
    const code = await withTotp(f);
    const state = challenged(await ask('alice', 'alice-pw'));
    assert.equal((await ask('alice', await code(), { state })).kind, 'accept');
    assert.equal((await ask('alice', await code(), { state })).kind, 'reject');
  });

  it("a State is bound to the user: another user's State is refused and spent", async () => {
    const { f, ask } = radiusFixture();
    const code = await withTotp(f);
    await withTotp(f, 'bob');
    const state = challenged(await ask('alice', 'alice-pw'));
    assert.equal((await ask('bob', await code(), { state })).kind, 'reject');
    assert.equal((await ask('alice', await code(), { state })).kind, 'reject', 'and cannot be used after');
  });

  it('a State is bound to the client that was challenged', async () => {
    const { f, ask } = radiusFixture();
    const code = await withTotp(f);
    const [other] = createClientTable([clientConfig({ name: 'other', address: '10.9.9.9' })]).clients;
    assert.ok(other);
    const state = challenged(await ask('alice', 'alice-pw'));
    assert.equal((await ask('alice', await code(), { state, client: other })).kind, 'reject');
  });

  it('a State expires after the challenge TTL', async () => {
    const { f, ask } = radiusFixture();
    const code = await withTotp(f);
    const state = challenged(await ask('alice', 'alice-pw'));
    f.clock.advance(61_000);
    assert.equal((await ask('alice', await code(), { state })).kind, 'reject');
  });

  it('a wrong code is rejected and the State is spent', async () => {
    const { f, ask } = radiusFixture();
    const code = await withTotp(f);
    const state = challenged(await ask('alice', 'alice-pw'));
    const wrong = (await code()) === '000000' ? '111111' : '000000';
    assert.equal((await ask('alice', wrong, { state })).kind, 'reject');
    assert.equal((await ask('alice', await code(), { state })).kind, 'reject');
  });

  it('a wrong password is rejected without a challenge', async () => {
    const { f, ask } = radiusFixture();
    await withTotp(f);
    assert.equal((await ask('alice', 'nope')).kind, 'reject');
  });

  it('typing push at the prompt sends a push and the approval accepts', async () => {
    const { f, ask } = radiusFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const phone = await f.activateDevice('alice');
    const state = challenged(await ask('alice', 'alice-pw'));
    const [answer, request] = await Promise.all([
      ask('alice', 'push', { state }),
      answerPhone(f, phone, 'approve'),
    ]);
    assert.equal(answer.kind, 'accept');
    assert.equal(request.numberMatching, false, 'no page shows a number: approve/deny only');
  });

  it('a push user on a client without OATH fallback cannot answer with a code', async () => {
    const { f, ask } = radiusFixture({ oathFallback: false });
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const phone = await f.activateDevice('alice');
    const seed = base32Decode(phone.activated.totp.secret);
    const code = await generate({ secret: seed, epoch: Math.floor(f.clock.now() / 1000) });
    const state = challenged(await ask('alice', 'alice-pw'));
    assert.equal((await ask('alice', code, { state })).kind, 'reject');
  });
});

describe('RADIUS out-of-band mode', () => {
  it('waits for the phone: approved is Access-Accept, denied is Access-Reject', async () => {
    const { f, ask } = radiusFixture({ mode: 'out-of-band' });
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const phone = await f.activateDevice('alice');
    const [approved] = await Promise.all([ask('alice', 'alice-pw'), answerPhone(f, phone, 'approve')]);
    assert.equal(approved.kind, 'accept');
    const [denied] = await Promise.all([ask('alice', 'alice-pw'), answerPhone(f, phone, 'deny')]);
    assert.equal(denied.kind, 'reject');
  });

  it('a new password attempt while a push is pending sends no second push; the older request is dropped', async () => {
    const { f, ask } = radiusFixture({ mode: 'out-of-band' });
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const phone = await f.activateDevice('alice');
    const first = ask('alice', 'alice-pw');
    // Let the first request reach its wait before the second one arrives.
    while ((await f.push.requestsForDevice(phone.device, 0)).length === 0)
      await new Promise((resolve) => setTimeout(resolve, 5));
    const second = ask('alice', 'alice-pw');
    assert.equal((await first).kind, 'drop', 'superseded: the NAS gets its answer on the new request');
    await answerPhone(f, phone, 'approve');
    assert.equal((await second).kind, 'accept');
    assert.equal(f.store.events.filter((e) => e.type === 'auth.push_sent').length, 1, 'exactly one push');
  });

  it('a user with no phone is rejected: out of band has nothing to ask', async () => {
    const { f, ask } = radiusFixture({ mode: 'out-of-band' });
    await withTotp(f);
    assert.equal((await ask('alice', 'alice-pw')).kind, 'reject');
  });
});

describe('RADIUS append and auto modes', () => {
  it('splits at the last delimiter only when a code or "push" follows', () => {
    assert.deepEqual(splitPasscode('pw,123456', ',', 6), { password: 'pw', code: '123456' });
    assert.deepEqual(splitPasscode('p,w,123456', ',', 6), { password: 'p,w', code: '123456' });
    assert.deepEqual(splitPasscode('p,w', ',', 6), { password: 'p,w' });
    assert.deepEqual(splitPasscode('p,w,PUSH', ',', 6), { password: 'p,w', push: true });
    assert.deepEqual(splitPasscode('pw,12345', ',', 6), { password: 'pw,12345' });
    assert.deepEqual(splitPasscode(',123456', ',', 6), { password: ',123456' }, 'no empty password');
    assert.deepEqual(splitPasscode('pw123456', '', 6), { password: 'pw', code: '123456' });
    assert.deepEqual(splitPasscode('123456', '', 6), { password: '123456' });
  });

  it('password,code is accepted; password alone is rejected in append mode', async () => {
    const { f, ask } = radiusFixture({ mode: 'append' });
    const code = await withTotp(f);
    assert.equal((await ask('alice', `alice-pw,${await code()}`)).kind, 'accept');
    assert.equal((await ask('alice', 'alice-pw')).kind, 'reject');
  });

  it('auto: a code when present, otherwise the phone', async () => {
    const { f, ask } = radiusFixture({ mode: 'auto' });
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const phone = await f.activateDevice('alice');
    const [byPhone] = await Promise.all([ask('alice', 'alice-pw'), answerPhone(f, phone, 'approve')]);
    assert.equal(byPhone.kind, 'accept');
    const [byKeyword] = await Promise.all([ask('alice', 'alice-pw,push'), answerPhone(f, phone, 'approve')]);
    assert.equal(byKeyword.kind, 'accept');
  });
});

describe('RADIUS client settings', () => {
  it('the re-authentication cache accepts the same credentials within its window, and only then', async () => {
    const { f, ask } = radiusFixture({ mode: 'append', reauthSeconds: 60 });
    const code = await withTotp(f);
    assert.equal((await ask('alice', `alice-pw,${await code()}`)).kind, 'accept');
    f.clock.advance(30_000);
    assert.equal((await ask('alice', 'alice-pw,push')).kind, 'accept', 'no second factor asked');
    assert.equal((await ask('alice', 'wrong-pw,push')).kind, 'reject', 'another password is not cached');
    f.clock.advance(31_000);
    assert.equal((await ask('alice', 'alice-pw')).kind, 'reject', 'the window has passed');
  });

  it('the re-authentication cache is off by default', async () => {
    const { f, ask } = radiusFixture({ mode: 'append' });
    const code = await withTotp(f);
    assert.equal((await ask('alice', `alice-pw,${await code()}`)).kind, 'accept');
    assert.equal((await ask('alice', 'alice-pw')).kind, 'reject');
  });

  it('requireUserMatch: primary-only on a client lets a user unknown to the store in on the password', async () => {
    const strict = radiusFixture();
    assert.equal((await strict.ask('dave', 'dave-pw')).kind, 'reject');
    const rollout = radiusFixture({ requireUserMatch: 'primary-only' });
    assert.equal((await rollout.ask('dave', 'dave-pw')).kind, 'accept');
    assert.equal((await rollout.ask('dave', 'wrong')).kind, 'reject');
  });

  it('failmode open accepts a verified password while the store is down, audited, and never a wrong one', async () => {
    const open = radiusFixture({ failmode: 'open' });
    await withTotp(open.f);
    const broken = async () => {
      throw new Error('SQLITE_IOERR: disk I/O error');
    };
    open.f.store.findUserByUniqueId = broken;
    open.f.store.getCounter = broken;
    const accepted = await open.ask('alice', 'alice-pw');
    assert.equal(accepted.kind, 'accept');
    const logged = open.f.logged.map((line) => (line as { audit: { type: string } }).audit.type);
    assert.ok(logged.includes('auth.fail_open'), 'audited in the JSON log while the store is down');
    assert.equal((await open.ask('alice', 'wrong')).kind, 'reject', 'a wrong password never fails open');

    const closed = radiusFixture();
    await withTotp(closed.f);
    closed.f.store.findUserByUniqueId = broken;
    assert.equal((await closed.ask('alice', 'alice-pw')).kind, 'reject', 'closed by default');
  });

  it('failmode open never lets a wrong code through', async () => {
    const { f, ask } = radiusFixture({ failmode: 'open' });
    const code = await withTotp(f);
    const state = challenged(await ask('alice', 'alice-pw'));
    const wrong = (await code()) === '000000' ? '111111' : '000000';
    assert.equal((await ask('alice', wrong, { state })).kind, 'reject');
  });

  it("failures relayed by a NAS that does not name the user's address never lock the NAS out", async () => {
    const { f, ask } = radiusFixture(
      {},
      { regulation: { address: { maxFailures: 3, windowSeconds: 300, banSeconds: 900 } } },
    );
    const code = await withTotp(f);
    for (const name of ['mallory', 'eve', 'trudy', 'oscar', 'peggy']) await ask(name, 'guess');
    const state = challenged(await ask('alice', 'alice-pw'));
    assert.equal((await ask('alice', await code(), { state })).kind, 'accept');
  });
});

describe('RADIUS clients', () => {
  const table = createClientTable([
    clientConfig({ name: 'subnet', address: '10.0.0.0/24' }),
    clientConfig({ name: 'one-nas', address: '10.0.0.7' }),
    clientConfig({ name: 'wide', address: '10.0.0.0/8' }),
    clientConfig({ name: 'v6', address: 'fd00::/64' }),
  ]);

  it('the most specific network wins, whatever the order of the list', () => {
    assert.equal(table.find('10.0.0.7')?.name, 'one-nas');
    assert.equal(table.find('10.0.0.8')?.name, 'subnet');
    assert.equal(table.find('10.9.0.1')?.name, 'wide');
    assert.equal(table.find('fd00::1')?.name, 'v6');
  });

  it('an IPv4 peer seen on a dual-stack socket is the same client', () => {
    assert.equal(table.find('::ffff:10.0.0.7')?.name, 'one-nas');
  });

  it('an address that is no client is unknown, and stays unknown when asked again', () => {
    assert.equal(table.find('192.0.2.1'), undefined);
    assert.equal(table.find('192.0.2.1'), undefined);
    assert.equal(table.find('not an address'), undefined);
  });
});
