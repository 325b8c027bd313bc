// Push approvals end to end over real sockets: the gateway's push page and its status long poll,
// Basic out of band, coalescing, number matching, and "deny and report fraud" with a real SMTP
// server (smtp-server) and a webhook receiver on loopback. The phone is test/helpers/phone.ts,
// speaking the same API and signatures as the web authenticator.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyWebhookSignature } from '../../src/providers/webhook-notifier.ts';
import { runCli } from '../helpers/cli.ts';
import {
  browse,
  type CookieJar,
  type GatewaySite,
  signIn,
  startGatewaySite,
} from '../helpers/gateway-site.ts';
import { activatePhoneByHelpDesk, nextRequest, type Phone } from '../helpers/phone.ts';
import { startSmtpServer } from '../helpers/smtp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const WEBHOOK_SECRET = 'webhook-secret-for-tests-0123456789';

async function startWebhookReceiver() {
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    url: `http://127.0.0.1:${port}/hook`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Bounded wait for a condition that another process makes true. */
async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('push approvals through the gateway', () => {
  let site: GatewaySite;
  let upstream: Upstream;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const phones = new Map<string, Phone>();

  async function phoneOf(username: string): Promise<Phone> {
    const phone = phones.get(username) ?? (await activatePhoneByHelpDesk(site, username));
    phones.set(username, phone);
    return phone;
  }

  /** The password step; returns the jar and the number the push page shows. */
  async function startPushSignIn(username: string, password: string, rd = '/') {
    const { jar, final } = await signIn(site, username, password, { rd, code: false });
    assert.equal(final.status, 303);
    assert.equal(final.headers.get('location'), '/_mfa/login');
    const page = await (await browse(site, jar)('/_mfa/login')).text();
    const number = Number(/id="push-number">(\d\d)</.exec(page)?.[1]);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    assert.ok(number >= 10 && number <= 99, 'the page shows a two-digit number');
    return { jar, number, csrf };
  }

  const finish = (jar: CookieJar, csrf: string) =>
    browse(site, jar)('/_mfa/login/push', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });

  const reached = (user: string) => upstream.requests.filter((r) => r.headers['remote-user'] === user);

  before(async () => {
    upstream = await startUpstream();
    smtp = await startSmtpServer();
    webhook = await startWebhookReceiver();
    site = await startGatewaySite({
      gatewayExtra: '  session: { revocationCheckSeconds: 0 }',
      portalExtra: '  methods: [totp, push]\n  mobileApp: { allow: true, maxDevices: 2 }',
      sections: `mobile:
  outOfBandWaitSeconds: 10
notifications:
  smtp: { host: 127.0.0.1, port: ${smtp.port}, requireTls: false, from: mfa@example.test, to: [secops@example.test] }
  webhook: { url: '${webhook.url}', secret: ${WEBHOOK_SECRET} }`,
      apps: `    - { name: basic-area, match: { pathPrefix: /basic }, upstream: '${upstream.url}', auth: basic }
    - { name: intranet, match: { pathPrefix: / }, upstream: '${upstream.url}', policy: two_factor }`,
    });
  });
  after(async () => {
    await site.stop();
    await smtp.close();
    await webhook.close();
    await upstream.close();
  });

  test('the app is reached only after the phone approves with the number shown on the page', async () => {
    const phone = await phoneOf('bob');
    const { jar, number, csrf } = await startPushSignIn('bob', 'bob-pw', '/after-push');
    const request = await nextRequest(phone);
    assert.equal(request.choices.length, 3);
    assert.ok(request.choices.includes(number));
    assert.equal(new Set(request.choices).size, 3);
    assert.equal(request.application, 'intranet');
    assert.equal((await finish(jar, csrf)).status, 409, 'finishing before the approval is refused');
    assert.equal(reached('bob').length, 0);
    // The status poll is held open until the phone answers.
    const status = browse(site, jar)('/_mfa/login/push/status').then((r) => r.json());
    const answer = await phone.answer(request, 'approve', number);
    assert.deepEqual(answer, { status: 200, body: { state: 'approved', reason: null } });
    assert.deepEqual(await status, { state: 'approved' });
    const done = await finish(jar, csrf);
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), '/after-push');
    const app = await browse(site, jar)('/after-push');
    assert.equal(app.status, 200);
    assert.equal(reached('bob').length, 1);
  });

  test('a wrong number denies the sign-in and the app is never reached', async () => {
    const phone = await phoneOf('dave');
    const { jar, number, csrf } = await startPushSignIn('dave', 'dave-pw');
    const request = await nextRequest(phone);
    const wrong = request.choices.find((n) => n !== number) as number;
    const answer = await phone.answer(request, 'approve', wrong);
    assert.deepEqual(answer.body, { state: 'denied', reason: 'wrong_number' });
    assert.deepEqual(await (await browse(site, jar)('/_mfa/login/push/status')).json(), { state: 'denied' });
    const done = await finish(jar, csrf);
    assert.equal(done.status, 401);
    assert.match(await done.text(), /not approved on your phone/);
    assert.equal((await browse(site, jar)('/')).status, 302, 'back to the sign-in page');
    assert.equal(reached('dave').length, 0);
  });

  test('a second sign-in while one push is pending does not create a second push', async () => {
    const phone = await phoneOf('erin');
    const first = await startPushSignIn('erin', 'erin-pw');
    const second = await startPushSignIn('erin', 'erin-pw');
    assert.equal(second.number, first.number, 'the same request, so the same number');
    const pending = await phone.pending(0);
    assert.equal(pending.length, 1);
    const [request] = pending;
    assert.ok(request);
    await phone.answer(request, 'deny', null);
    assert.equal((await finish(first.jar, first.csrf)).status, 401);
    assert.equal(reached('erin').length, 0);
  });

  test('Basic mode holds the request while the phone approves out of band, without a number', async () => {
    const phone = await phoneOf('frank');
    const auth = `Basic ${Buffer.from('frank:frank-pw').toString('base64')}`;
    const get = () =>
      fetch(`${site.url}/basic/report`, { headers: { authorization: auth }, redirect: 'manual' });
    const denied = get();
    const first = await nextRequest(phone);
    assert.deepEqual(first.choices, [], 'out of band there is no number to match');
    assert.equal(reached('frank').length, 0, 'nothing is forwarded while the phone has not answered');
    await phone.answer(first, 'deny', null);
    assert.equal((await denied).status, 401);
    assert.equal(reached('frank').length, 0);
    const approved = get();
    const second = await nextRequest(phone);
    assert.deepEqual((await phone.answer(second, 'approve', null)).body, { state: 'approved', reason: null });
    assert.equal((await approved).status, 200);
    assert.equal(reached('frank').length, 1);
  });

  test('a Basic POST with a body also waits for the phone, instead of giving up when its body is read', async () => {
    // erin: frank's Basic credentials are cached by now, and a cached sign-in asks no phone.
    const phone = await phoneOf('erin');
    const auth = `Basic ${Buffer.from('erin:erin-pw').toString('base64')}`;
    const seen = reached('erin').length;
    const posted = fetch(`${site.url}/basic/report`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'note=quarterly',
      redirect: 'manual',
    });
    const request = await nextRequest(phone);
    assert.equal(reached('erin').length, seen, 'nothing is forwarded before the phone answers');
    assert.deepEqual((await phone.answer(request, 'approve', null)).body, {
      state: 'approved',
      reason: null,
    });
    assert.equal((await posted).status, 200);
    assert.equal(reached('erin').length, seen + 1);
  });

  test('deny and report fraud blocks the user, ends their session, and alerts administrators', async () => {
    const phone = await phoneOf('grace');
    // grace has a working session from earlier (signed in with a code).
    const { jar: earlier } = await signIn(site, 'grace', 'grace-pw', { rd: '/' });
    const before = await browse(site, earlier)('/');
    assert.equal(before.status, 200);
    // Someone else, with her password, starts a sign-in; her phone reports it.
    const attacker = await startPushSignIn('grace', 'grace-pw');
    const request = await nextRequest(phone);
    const answer = await phone.answer(request, 'fraud', null);
    assert.deepEqual(answer.body, { state: 'fraud', reason: 'user' });
    // Every session of hers is revoked, the attacker's half-done one included.
    const refused = await finish(attacker.jar, attacker.csrf);
    assert.equal(refused.status, 303);
    assert.equal(refused.headers.get('location'), '/_mfa/login');
    const seen = reached('grace').length;
    assert.equal((await browse(site, earlier)('/')).status, 302, 'her open session stops working');
    assert.equal(reached('grace').length, seen);
    // Administrators hear about it by e-mail and by a signed webhook.
    await eventually(() => smtp.mails.length > 0 && webhook.received.length > 0, 'the fraud alerts');
    const mail = smtp.mails[0]?.raw ?? '';
    assert.match(mail, /Subject: \[mfa-gateway\] Fraud reported by grace/);
    assert.match(mail, /intranet/);
    const hook = webhook.received[0];
    assert.ok(hook);
    const body = JSON.parse(hook.body) as Record<string, unknown>;
    assert.equal(body.type, 'fraud.reported');
    assert.equal(body.username, 'grace');
    assert.equal(body.blocked, true);
    assert.ok(
      verifyWebhookSignature(
        WEBHOOK_SECRET,
        String(hook.headers['x-mfa-timestamp']),
        hook.body,
        String(hook.headers['x-mfa-signature']),
        Math.floor(Date.now() / 1000),
      ),
      'the webhook is signed with the shared secret',
    );
    // Blocked: even the right password and code do not sign in, until an administrator unblocks.
    const blocked = await signIn(site, 'grace', 'grace-pw', { code: false });
    assert.equal(blocked.final.status, 401);
    const unblock = await runCli(['users', 'unblock', 'grace', '--config', join(site.dir, 'config.yaml')]);
    assert.equal(unblock.code, 0, unblock.stderr);
    const again = await startPushSignIn('grace', 'grace-pw');
    const next = await nextRequest(phone);
    await phone.answer(next, 'approve', again.number);
    assert.equal((await finish(again.jar, again.csrf)).status, 303);
  });
});
