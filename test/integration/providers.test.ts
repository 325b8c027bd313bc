// The outside-world notifiers against real peers on loopback: an SMTP server (smtp-server), an HTTP
// webhook receiver and an HTTP push service. The Web Push test decrypts what it receives with the
// browser's key, derived here from the RFC 8291 text (HMAC steps), independently of the sender's code.
import assert from 'node:assert/strict';
import { createDecipheriv, createECDH, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import type { FraudAlert, PushMessage, PushSubscriptionKeys } from '../../src/core/ports.ts';
import { combineNotifiers } from '../../src/providers/admin-notifiers.ts';
import type { ProviderLogger } from '../../src/providers/provider-logger.ts';
import { createSmtpNotifier } from '../../src/providers/smtp-notifier.ts';
import { createWebPushSender, generateVapidKeys, parsePushEndpoint } from '../../src/providers/web-push.ts';
import { encryptPayload } from '../../src/providers/web-push-encryption.ts';
import { createWebhookNotifier, verifyWebhookSignature } from '../../src/providers/webhook-notifier.ts';
import { startSmtpServer } from '../helpers/smtp.ts';

const TIMEOUT = { timeout: 20_000 };

const ALERT: FraudAlert = {
  at: Date.UTC(2026, 2, 14, 9, 26, 53),
  username: 'alice',
  displayName: 'Alice Liddell',
  application: 'intranet',
  clientAddress: '203.0.113.77',
  channel: 'web',
  requestId: 'pr_8f3a2c',
  blocked: true,
};

interface LogEntry {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

function recordingLogger(): ProviderLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    info: (obj, msg) => entries.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
  };
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A loopback HTTP peer that records each request and answers with the next status from `statuses`. */
async function startHttpPeer(statuses: number[]) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.statusCode = statuses[Math.min(received.length, statuses.length) - 1] ?? 200;
      res.end(res.statusCode >= 400 ? 'peer says no' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------- SMTP

/** Splits a single-part message into unfolded headers and the decoded text body. */
function parseMail(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  let text = raw.slice(split + 4);
  if (headers.get('content-transfer-encoding') === 'quoted-printable') {
    text = Buffer.from(
      text
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
  }
  return { headers, text: text.replace(/\r\n/g, '\n') };
}

describe('SMTP fraud alerts', () => {
  it(
    'delivers the alert to every recipient, naming the user, application and client address',
    TIMEOUT,
    async () => {
      const smtp = await startSmtpServer();
      const logger = recordingLogger();
      const notifier = createSmtpNotifier(
        {
          host: '127.0.0.1',
          port: smtp.port,
          secure: false,
          requireTls: false,
          from: 'mfa@example.test',
          to: ['sec@example.test', 'helpdesk@example.test'],
          timeoutMs: 5000,
        },
        logger,
      );
      // The pooled connection must go first: the server waits for open connections when it closes.
      after(async () => {
        notifier.close();
        await smtp.close();
      });

      await notifier.fraudReported(ALERT);

      assert.equal(smtp.mails.length, 1);
      const mail = smtp.mails[0];
      assert.ok(mail);
      assert.equal(mail.from, 'mfa@example.test');
      assert.deepEqual(mail.rcptTo, ['sec@example.test', 'helpdesk@example.test']);
      const { headers, text } = parseMail(mail.raw);
      assert.equal(headers.get('subject'), '[mfa-gateway] Fraud reported by alice');
      assert.equal(headers.get('auto-submitted'), 'auto-generated');
      assert.match(text, /User: +alice\n/);
      assert.match(text, /Display name: +Alice Liddell\n/);
      assert.match(text, /Application: +intranet\n/);
      assert.match(text, /Client address: +203\.0\.113\.77\n/);
      assert.match(text, /Time: +2026-03-14T09:26:53\.000Z\n/);
      assert.match(text, /Request id: +pr_8f3a2c\n/);
      assert.match(text, /Account blocked: +yes/);
      assert.match(text, /\/enroll\/admin\/users\/alice/);
      assert.match(text, /mfa-gateway users unblock alice/);
      assert.deepEqual(
        logger.entries.filter((e) => e.level !== 'info'),
        [],
      );
    },
  );

  it('cannot be made to inject a header through a user name with line breaks', TIMEOUT, async () => {
    const smtp = await startSmtpServer();
    const notifier = createSmtpNotifier(
      {
        host: '127.0.0.1',
        port: smtp.port,
        secure: false,
        requireTls: false,
        from: 'mfa@example.test',
        to: ['sec@example.test'],
      },
      recordingLogger(),
    );
    after(async () => {
      notifier.close();
      await smtp.close();
    });

    await notifier.fraudReported({
      ...ALERT,
      username: 'mallory\r\nBcc: attacker@evil.test',
      displayName: 'M\r\nApplication: fake',
    });

    const mail = smtp.mails[0];
    assert.ok(mail);
    assert.deepEqual(mail.rcptTo, ['sec@example.test']);
    const { headers, text } = parseMail(mail.raw);
    assert.equal(headers.has('bcc'), false);
    assert.equal(headers.get('subject'), '[mfa-gateway] Fraud reported by mallory Bcc: attacker@evil.test');
    assert.doesNotMatch(text, /^Application: fake/m);
  });

  it('resolves without throwing, within the timeout, when the mail server is down', TIMEOUT, async () => {
    const logger = recordingLogger();
    const notifier = createSmtpNotifier(
      {
        host: '127.0.0.1',
        port: await closedPort(),
        secure: false,
        requireTls: false,
        from: 'mfa@example.test',
        to: ['sec@example.test'],
        timeoutMs: 2000,
      },
      logger,
    );
    after(() => notifier.close());

    const started = performance.now();
    await notifier.fraudReported(ALERT);
    assert.ok(performance.now() - started < 3000);
    assert.equal(logger.entries.filter((e) => e.level === 'warn').length, 1);
  });
});

// ---------------------------------------------------------------- webhook

describe('webhook fraud alerts', () => {
  const SECRET = 'whsec_test_4b1d';

  it('posts the alert as JSON with a signature the receiver can verify', TIMEOUT, async () => {
    const peer = await startHttpPeer([204]);
    after(peer.close);
    const notifier = createWebhookNotifier(
      { url: `${peer.origin}/hooks/mfa`, secret: SECRET },
      recordingLogger(),
    );

    await notifier.fraudReported(ALERT);

    assert.equal(peer.received.length, 1);
    const request = peer.received[0];
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/hooks/mfa');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request.body.toString('utf8')), {
      type: 'fraud.reported',
      at: '2026-03-14T09:26:53.000Z',
      username: 'alice',
      displayName: 'Alice Liddell',
      application: 'intranet',
      clientAddress: '203.0.113.77',
      channel: 'web',
      requestId: 'pr_8f3a2c',
      blocked: true,
    });
    const timestamp = String(request.headers['x-mfa-timestamp']);
    const signature = String(request.headers['x-mfa-signature']);
    const nowSeconds = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(Number(timestamp) - nowSeconds) <= 2);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(SECRET, timestamp, request.body, signature, nowSeconds), true);
  });

  it(
    'refuses a body changed by one byte, a stale timestamp, a moved timestamp and another secret',
    TIMEOUT,
    async () => {
      const peer = await startHttpPeer([200]);
      after(peer.close);
      const sentAt = 1_780_000_000;
      await createWebhookNotifier(
        { url: peer.origin, secret: SECRET, now: () => sentAt * 1000 },
        recordingLogger(),
      ).fraudReported(ALERT);
      const request = peer.received[0];
      assert.ok(request);
      const timestamp = String(request.headers['x-mfa-timestamp']);
      const signature = String(request.headers['x-mfa-signature']);
      assert.equal(timestamp, String(sentAt));

      assert.equal(verifyWebhookSignature(SECRET, timestamp, request.body, signature, sentAt + 299), true);
      const tampered = Buffer.from(request.body);
      tampered[tampered.indexOf('"blocked":true') + 10] = 'T'.charCodeAt(0);
      assert.equal(verifyWebhookSignature(SECRET, timestamp, tampered, signature, sentAt), false);
      assert.equal(verifyWebhookSignature(SECRET, timestamp, request.body, signature, sentAt + 301), false);
      assert.equal(verifyWebhookSignature(SECRET, timestamp, request.body, signature, sentAt - 301), false);
      assert.equal(
        verifyWebhookSignature(SECRET, String(sentAt + 1), request.body, signature, sentAt),
        false,
      );
      assert.equal(verifyWebhookSignature('another', timestamp, request.body, signature, sentAt), false);
      assert.equal(verifyWebhookSignature(SECRET, timestamp, request.body, 'sha256=00', sentAt), false);
    },
  );

  it('retries once after a 500 and resolves without throwing', TIMEOUT, async () => {
    const peer = await startHttpPeer([500, 500, 500]);
    after(peer.close);
    const logger = recordingLogger();
    const notifier = createWebhookNotifier({ url: peer.origin, secret: SECRET, retryDelayMs: 50 }, logger);

    await notifier.fraudReported(ALERT);

    assert.equal(peer.received.length, 2);
    assert.deepEqual(peer.received[0]?.body, peer.received[1]?.body);
    const warnings = logger.entries.filter((e) => e.level === 'warn');
    assert.equal(warnings.length, 2);
    assert.deepEqual(warnings[1]?.obj, { status: 500, target: peer.origin, requestId: 'pr_8f3a2c' });
  });

  it('does not retry a 4xx answer, which a retry cannot fix', TIMEOUT, async () => {
    const peer = await startHttpPeer([403]);
    after(peer.close);
    const logger = recordingLogger();
    await createWebhookNotifier({ url: peer.origin, secret: SECRET, retryDelayMs: 50 }, logger).fraudReported(
      ALERT,
    );
    assert.equal(peer.received.length, 1);
    assert.equal(logger.entries.filter((e) => e.level === 'warn').length, 1);
  });

  it('resolves without throwing when the receiver is down', TIMEOUT, async () => {
    const logger = recordingLogger();
    const url = `http://127.0.0.1:${await closedPort()}/`;
    await createWebhookNotifier({ url, secret: SECRET, retryDelayMs: 50 }, logger).fraudReported(ALERT);
    assert.equal(logger.entries.filter((e) => e.level === 'warn').length, 2);
  });
});

describe('combined notifiers', () => {
  it('runs every notifier even when one throws, and never throws itself', async () => {
    const logger = recordingLogger();
    const reached: string[] = [];
    const combined = combineNotifiers(
      [
        {
          fraudReported: () => {
            throw new Error('synchronous failure');
          },
        },
        { fraudReported: async () => Promise.reject(new Error('asynchronous failure')) },
        {
          fraudReported: async (alert) => {
            reached.push(alert.requestId);
          },
        },
      ],
      logger,
    );
    await combined.fraudReported(ALERT);
    assert.deepEqual(reached, ['pr_8f3a2c']);
    assert.equal(logger.entries.filter((e) => e.level === 'error').length, 2);
  });
});

// ---------------------------------------------------------------- Web Push

/** The receiving side of RFC 8291 §3.4 and RFC 8188, written from the RFC text with plain HMAC steps. */
function decryptPush(body: Buffer, uaPrivate: Buffer, authSecret: Buffer): Buffer {
  const hmac = (key: Uint8Array, ...data: Uint8Array[]) => {
    const mac = createHmac('sha256', key);
    for (const part of data) mac.update(part);
    return mac.digest();
  };
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body.readUInt8(20);
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  assert.ok(record.length <= rs, 'one record');
  const ua = createECDH('prime256v1');
  ua.setPrivateKey(uaPrivate);
  const uaPublic = ua.getPublicKey();
  const ecdhSecret = ua.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const prkKey = hmac(authSecret, ecdhSecret);
  const ikm = hmac(prkKey, keyInfo, Buffer.of(1));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0'), Buffer.of(1)).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0'), Buffer.of(1)).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  assert.equal(padded[end], 0x02, 'last-record padding delimiter');
  return padded.subarray(0, end);
}

function browserSubscription(endpoint: string) {
  const ua = createECDH('prime256v1');
  ua.generateKeys();
  const auth = randomBytes(16);
  const subscription: PushSubscriptionKeys = {
    endpoint,
    p256dh: ua.getPublicKey().toString('base64url'),
    auth: auth.toString('base64url'),
  };
  return { subscription, uaPrivate: ua.getPrivateKey(), auth };
}

const MESSAGE: PushMessage = {
  title: 'Sign-in request',
  body: 'intranet from 203.0.113.77',
  requestId: 'pr_8f3a2c',
  ttlSeconds: 90,
};

describe('Web Push', () => {
  const vapid = generateVapidKeys();
  const subject = 'mailto:security@example.test';

  it('reproduces the RFC 8291 Appendix A message byte for byte', () => {
    const b = (s: string) => Buffer.from(s, 'base64url');
    const body = encryptPayload(
      b('V2hlbiBJIGdyb3cgdXAsIEkgd2FudCB0byBiZSBhIHdhdGVybWVsb24'),
      b('BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4'),
      b('BTBZMqHH6r4Tts7J_aSIgg'),
      {
        salt: b('DGv6ra1nlYgDCS1FRnbzlw'),
        ephemeralPrivateKey: b('yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw'),
      },
    );
    assert.equal(
      body.toString('base64url'),
      'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
    );
    // And the receiving side in this file, written separately, reads it back with the UA private key.
    assert.equal(
      decryptPush(
        body,
        b('q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94'),
        b('BTBZMqHH6r4Tts7J_aSIgg'),
      ).toString(),
      'When I grow up, I want to be a watermelon',
    );
  });

  it(
    'sends a message only the subscribing browser can decrypt, with a VAPID JWT for the endpoint origin',
    TIMEOUT,
    async () => {
      const peer = await startHttpPeer([201]);
      after(peer.close);
      const browser = browserSubscription(`${peer.origin}/push/send/abc123`);
      const sender = createWebPushSender(
        { subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowInsecureLoopback: true },
        recordingLogger(),
      );

      assert.equal(await sender.send(browser.subscription, MESSAGE), 'sent');

      const request = peer.received[0];
      assert.ok(request);
      assert.equal(request.method, 'POST');
      assert.equal(request.url, '/push/send/abc123');
      assert.equal(request.headers['content-encoding'], 'aes128gcm');
      assert.equal(request.headers['content-type'], 'application/octet-stream');
      assert.equal(request.headers.ttl, '90');
      assert.equal(request.headers.urgency, 'high');

      const match = /^vapid t=([^,\s]+), k=([A-Za-z0-9_-]+)$/.exec(String(request.headers.authorization));
      assert.ok(match, 'vapid authorization');
      const [, token = '', k = ''] = match;
      assert.equal(k, vapid.publicKey);
      const point = Buffer.from(k, 'base64url');
      const key = await importJWK(
        {
          kty: 'EC',
          crv: 'P-256',
          x: point.subarray(1, 33).toString('base64url'),
          y: point.subarray(33).toString('base64url'),
        },
        'ES256',
      );
      const { payload } = await jwtVerify(token, key, { audience: peer.origin, algorithms: ['ES256'] });
      assert.equal(decodeProtectedHeader(token).typ, 'JWT');
      assert.equal(payload.aud, peer.origin);
      assert.equal(payload.sub, subject);
      const nowSeconds = Date.now() / 1000;
      assert.ok(
        typeof payload.exp === 'number' &&
          payload.exp > nowSeconds &&
          payload.exp <= nowSeconds + 12 * 3600 + 5,
      );

      const plaintext = decryptPush(request.body, browser.uaPrivate, browser.auth);
      assert.deepEqual(JSON.parse(plaintext.toString('utf8')), {
        title: 'Sign-in request',
        body: 'intranet from 203.0.113.77',
        requestId: 'pr_8f3a2c',
      });
      // Another browser's keys cannot read it.
      const stranger = browserSubscription('https://push.example.test/x');
      assert.throws(() => decryptPush(request.body, stranger.uaPrivate, browser.auth));
    },
  );

  it('reports a subscription the push service answers 404 or 410 for as gone', TIMEOUT, async () => {
    const peer = await startHttpPeer([410, 404]);
    after(peer.close);
    const sender = createWebPushSender(
      { subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowInsecureLoopback: true },
      recordingLogger(),
    );
    const { subscription } = browserSubscription(`${peer.origin}/push/gone`);
    assert.equal(await sender.send(subscription, MESSAGE), 'gone');
    assert.equal(await sender.send(subscription, MESSAGE), 'gone');
  });

  it('throws an error naming the status for any other answer', TIMEOUT, async () => {
    const peer = await startHttpPeer([403, 429]);
    after(peer.close);
    const sender = createWebPushSender(
      { subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey, allowInsecureLoopback: true },
      recordingLogger(),
    );
    const { subscription } = browserSubscription(`${peer.origin}/push/x`);
    await assert.rejects(sender.send(subscription, MESSAGE), /answered 403: peer says no/);
    await assert.rejects(sender.send(subscription, MESSAGE), /answered 429/);
  });

  it(
    'never posts to a plain-http endpoint that is not loopback, nor to loopback unless allowed',
    TIMEOUT,
    async () => {
      const peer = await startHttpPeer([201]);
      after(peer.close);
      const strict = createWebPushSender(
        { subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
        recordingLogger(),
      );
      await assert.rejects(
        strict.send(browserSubscription(`${peer.origin}/p`).subscription, MESSAGE),
        /https/,
      );
      assert.equal(peer.received.length, 0);
      assert.equal(parsePushEndpoint('http://10.0.0.8/push', true), null);
      assert.equal(parsePushEndpoint('http://localhost/push', true), null);
      assert.equal(parsePushEndpoint('https://user:pw@push.example.test/', true), null);
      assert.equal(parsePushEndpoint('not a url'), null);
      assert.equal(parsePushEndpoint('http://[::1]:8080/p', true)?.origin, 'http://[::1]:8080');
      assert.equal(
        parsePushEndpoint('https://fcm.googleapis.com/fcm/send/x')?.origin,
        'https://fcm.googleapis.com',
      );
    },
  );

  it('refuses VAPID keys that do not belong together, and a subject that is not mailto: or https:', () => {
    const other = generateVapidKeys();
    assert.throws(
      () =>
        createWebPushSender(
          { subject, publicKey: vapid.publicKey, privateKey: other.privateKey },
          recordingLogger(),
        ),
      /do not match/,
    );
    assert.throws(
      () => createWebPushSender({ subject: 'admin@example.test', ...vapid }, recordingLogger()),
      /mailto: or https:/,
    );
  });

  it('generates VAPID keys in the forms browsers and the sender take', () => {
    const keys = generateVapidKeys();
    assert.equal(Buffer.from(keys.publicKey, 'base64url').length, 65);
    assert.equal(Buffer.from(keys.publicKey, 'base64url')[0], 0x04);
    assert.equal(Buffer.from(keys.privateKey, 'base64url').length, 32);
    assert.notEqual(keys.privateKey, generateVapidKeys().privateKey);
  });
});
