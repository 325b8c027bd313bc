// RADIUS on the wire with our own small client, for what radclient cannot do: retransmit one packet
// from one source port while a push is pending, forge single bytes, send Latin-1 passwords and
// garbage. Every answer is checked against the shared secret, and the phone is the real mobile API.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ATTR, CODE, decodePacket, verifyResponse } from '../../src/radius/packet.ts';
import type { GatewaySite } from '../helpers/gateway-site.ts';
import { activatePhoneByHelpDesk, nextRequest, type Phone } from '../helpers/phone.ts';
import { accessRequest, radiusSocket, SECRETS, startRadiusSite } from '../helpers/radius.ts';

const RRAS = '127.0.0.2';
const APPEND = '127.0.0.3';
const LEGACY = '127.0.0.4';
const secretOf = (s: string) => Buffer.from(s, 'utf8');

describe('RADIUS on the wire', () => {
  let site: GatewaySite;
  let authPort: number;
  const phones = new Map<string, Phone>();

  before(async () => {
    ({ site, authPort } = await startRadiusSite());
  });
  after(async () => {
    await site.stop();
  });

  async function phoneOf(username: string): Promise<Phone> {
    const phone = phones.get(username) ?? (await activatePhoneByHelpDesk(site, username));
    phones.set(username, phone);
    return phone;
  }

  /** Decodes an answer and checks its authenticators with the client's secret. */
  function checked(bytes: Buffer | undefined, request: { authenticator: Buffer }, secret: string) {
    assert.ok(bytes, 'an answer came');
    const decoded = decodePacket(bytes);
    assert.ok(decoded.ok);
    assert.ok(verifyResponse(decoded.packet, request.authenticator, secretOf(secret)), 'authentic answer');
    return decoded.packet;
  }

  it('retransmits during a pending push create exactly one push; after the answer every copy gets the same bytes', async () => {
    const phone = await phoneOf('frank');
    const nas = await radiusSocket(authPort, { from: RRAS });
    try {
      const request = accessRequest({ secret: SECRETS.rras, username: 'frank', password: 'frank-pw' });
      nas.send(request.bytes);
      const pending = await nextRequest(phone);
      for (let i = 0; i < 3; i++) {
        nas.send(request.bytes);
        assert.equal(await nas.next(200), undefined, 'a retransmit while pending gets no answer');
      }
      assert.equal((await phone.pending()).length, 1, 'exactly one push on the phone');
      const answered = await phone.answer(pending, 'approve', null);
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      const first = await nas.next(5000);
      const accept = checked(first, request, SECRETS.rras);
      assert.equal(accept.code, CODE.AccessAccept);
      const copies = [];
      for (let i = 0; i < 3; i++) {
        nas.send(request.bytes);
        copies.push(await nas.next(1000));
      }
      for (const copy of copies) assert.deepEqual(copy, first, 'the cached answer, byte for byte');
      assert.equal((await phone.pending()).length, 0);
    } finally {
      await nas.close();
    }
  });

  it('out of band: a denial on the phone is an Access-Reject', async () => {
    const phone = await phoneOf('grace');
    const nas = await radiusSocket(authPort, { from: RRAS });
    try {
      const request = accessRequest({ secret: SECRETS.rras, username: 'grace', password: 'grace-pw' });
      nas.send(request.bytes);
      const pending = await nextRequest(phone);
      assert.equal(pending.application, 'VPN', 'the phone names the client application');
      assert.deepEqual(pending.choices, [], 'no number to match out of band');
      assert.equal((await phone.answer(pending, 'deny', null)).status, 200);
      assert.equal(checked(await nas.next(5000), request, SECRETS.rras).code, CODE.AccessReject);
    } finally {
      await nas.close();
    }
  });

  it('out of band: the Accept carries the reply attributes, after the Message-Authenticator', async () => {
    const phone = await phoneOf('frank');
    const nas = await radiusSocket(authPort, { from: RRAS });
    try {
      const request = accessRequest({ secret: SECRETS.rras, username: 'frank', password: 'frank-pw' });
      nas.send(request.bytes);
      assert.equal((await phone.answer(await nextRequest(phone), 'approve', null)).status, 200);
      const accept = checked(await nas.next(5000), request, SECRETS.rras);
      assert.equal(accept.code, CODE.AccessAccept);
      assert.deepEqual(
        accept.attributes.map((a) => a.type),
        [ATTR.MessageAuthenticator, ATTR.SessionTimeout, ATTR.VendorSpecific],
      );
    } finally {
      await nas.close();
    }
  });

  it('the Message-Authenticator is the first attribute of every answer (golden bytes)', async () => {
    const nas = await radiusSocket(authPort, { from: APPEND });
    try {
      const request = accessRequest({
        secret: SECRETS.append,
        username: 'alice',
        password: 'wrong,push',
        identifier: 7,
        attributes: [{ type: ATTR.ProxyState, value: Buffer.from('hop-1') }],
      });
      const answer = await (async () => {
        nas.send(request.bytes);
        return nas.next(3000);
      })();
      assert.ok(answer);
      // Access-Reject, identifier 7, then MA (type 80, length 18) at offset 20, then the Proxy-State echoed.
      const length = 20 + 18 + 7;
      assert.equal(answer.length, length);
      assert.deepEqual([...answer.subarray(0, 4)], [CODE.AccessReject, 7, 0, length]);
      assert.deepEqual([...answer.subarray(20, 22)], [80, 18]);
      assert.deepEqual(answer.subarray(38), Buffer.from([33, 7, ...Buffer.from('hop-1')]));
      // The MA is HMAC-MD5 over the answer with the request authenticator and the MA zeroed ...
      const zeroed = Buffer.from(answer);
      request.authenticator.copy(zeroed, 4);
      zeroed.fill(0, 22, 38);
      const mac = createHmac('md5', SECRETS.append).update(zeroed).digest();
      assert.deepEqual(answer.subarray(22, 38), mac);
      // ... and the Response Authenticator is MD5 over the answer (request authenticator in place) and the secret.
      const withMac = Buffer.from(answer);
      request.authenticator.copy(withMac, 4);
      const response = createHash('md5').update(withMac).update(SECRETS.append).digest();
      assert.deepEqual(answer.subarray(4, 20), response);
    } finally {
      await nas.close();
    }
  });

  it('every one-byte change of a valid Message-Authenticator is refused', async () => {
    const nas = await radiusSocket(authPort, { from: APPEND });
    try {
      const request = accessRequest({ secret: SECRETS.append, username: 'alice', password: 'wrong,push' });
      const at = request.bytes.indexOf(Buffer.from([80, 18])) + 2;
      assert.ok(at >= 22);
      for (let i = 0; i < 16; i++) {
        for (const flip of [0x01, 0x80, 0xff]) {
          const forged = Buffer.from(request.bytes);
          forged[at + i] = (forged[at + i] ?? 0) ^ flip;
          nas.send(forged);
        }
      }
      assert.equal(await nas.next(1000), undefined, 'none of the 48 forgeries is answered');
      nas.send(request.bytes);
      assert.equal(checked(await nas.next(3000), request, SECRETS.append).code, CODE.AccessReject);
    } finally {
      await nas.close();
    }
  });

  it('a Latin-1 password works, and so does the same password in UTF-8', async () => {
    const nas = await radiusSocket(authPort, { from: APPEND });
    try {
      for (const encoding of ['latin1', 'utf8'] as const) {
        const password = Buffer.from(`pässwort,${site.code('ida')}`, encoding);
        const request = accessRequest({ secret: SECRETS.append, username: 'ida', password });
        nas.send(request.bytes);
        assert.equal(
          checked(await nas.next(3000), request, SECRETS.append).code,
          CODE.AccessAccept,
          encoding,
        );
      }
    } finally {
      await nas.close();
    }
  });

  it('append mode: a password that contains the delimiter works', async () => {
    const nas = await radiusSocket(authPort, { from: APPEND });
    try {
      const request = accessRequest({
        secret: SECRETS.append,
        username: 'henry',
        password: `a,b,c,${site.code('henry')}`,
      });
      nas.send(request.bytes);
      assert.equal(checked(await nas.next(3000), request, SECRETS.append).code, CODE.AccessAccept);
    } finally {
      await nas.close();
    }
  });

  it('an unsigned request with Proxy-State is dropped even where the Message-Authenticator is optional (BlastRADIUS)', async () => {
    const nas = await radiusSocket(authPort, { from: LEGACY });
    try {
      const plain = accessRequest({
        secret: SECRETS.legacy,
        username: 'alice',
        password: 'wrong,push',
        messageAuthenticator: false,
      });
      nas.send(plain.bytes);
      assert.equal(checked(await nas.next(3000), plain, SECRETS.legacy).code, CODE.AccessReject);
      const proxied = accessRequest({
        secret: SECRETS.legacy,
        username: 'alice',
        password: 'wrong,push',
        messageAuthenticator: false,
        attributes: [{ type: ATTR.ProxyState, value: Buffer.from('x') }],
      });
      nas.send(proxied.bytes);
      assert.equal(await nas.next(1000), undefined);
    } finally {
      await nas.close();
    }
  });

  it('a datagram from an address that is no client gets no answer', async () => {
    const nas = await radiusSocket(authPort, { from: '127.0.0.9' });
    try {
      nas.send(accessRequest({ secret: SECRETS.append, username: 'alice', password: 'alice-pw' }).bytes);
      assert.equal(await nas.next(1000), undefined);
    } finally {
      await nas.close();
    }
  });

  it('a bounded fuzz of random, truncated and mis-sized packets never stops the server', async () => {
    const nas = await radiusSocket(authPort, { from: APPEND });
    try {
      const valid = accessRequest({
        secret: SECRETS.append,
        username: 'alice',
        password: 'wrong,push',
      }).bytes;
      let seed = 0x5eed;
      const next = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed;
      };
      for (let i = 0; i < 3000; i++) {
        const kind = i % 4;
        let packet: Buffer;
        if (kind === 0) packet = Buffer.from(Array.from({ length: next() % 120 }, () => next() & 0xff));
        else if (kind === 1) packet = valid.subarray(0, next() % valid.length);
        else if (kind === 2) {
          packet = Buffer.from(valid);
          packet.writeUInt16BE(next() % 5000, 2);
        } else {
          packet = Buffer.from(valid);
          for (let j = 0; j < 3; j++) packet[next() % packet.length] = next() & 0xff;
        }
        nas.send(packet);
        if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      // Whatever was answered, the server still answers a fresh valid request.
      while (await nas.next(300));
      const fresh = accessRequest({ secret: SECRETS.append, username: 'alice', password: 'wrong,push' });
      nas.send(fresh.bytes);
      assert.equal(checked(await nas.next(3000), fresh, SECRETS.append).code, CODE.AccessReject);
    } finally {
      await nas.close();
    }
  });
});
