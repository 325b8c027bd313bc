import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeValue, findAttribute, toWireAttribute, VENDORS } from '../../src/radius/dictionary.ts';
import {
  ATTR,
  type Attribute,
  CODE,
  decodePacket,
  decryptUserPassword,
  encodeRequest,
  encodeResponse,
  encryptUserPassword,
  firstAttribute,
  type Packet,
  verifyAccountingRequest,
  verifyMessageAuthenticator,
  verifyResponse,
} from '../../src/radius/packet.ts';
import { passwordText } from '../../src/radius/password-text.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const secret = Buffer.from('s3cret');
const fixedAuthenticator = Buffer.from(Array.from({ length: 16 }, (_, i) => i));

function decoded(bytes: Buffer): Packet {
  const result = decodePacket(bytes);
  if (!result.ok) assert.fail(`expected a packet, got: ${result.reason}`);
  return result.packet;
}

function refusal(bytes: Buffer): string {
  const result = decodePacket(bytes);
  if (result.ok) assert.fail('expected a refusal');
  return result.reason;
}

/** A header plus attributes laid out by hand, with whatever Length we say, so malformed packets can be built. */
function rawPacket(attributes: number[][], options: { code?: number; length?: number } = {}): Buffer {
  const body = attributes.flat();
  const length = options.length ?? 20 + body.length;
  return Buffer.from([
    options.code ?? CODE.AccessRequest,
    7,
    length >> 8,
    length & 0xff,
    ...fixedAuthenticator,
    ...body,
  ]);
}

function wire(attribute: Attribute): Buffer {
  return Buffer.concat([Buffer.from([attribute.type, 2 + attribute.value.length]), attribute.value]);
}

function text(type: number, value: string): Attribute {
  return { type, value: Buffer.from(value) };
}

/** Deterministic, so a fuzz failure can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function signedAccessRequest(): Buffer {
  return encodeRequest({
    code: CODE.AccessRequest,
    identifier: 9,
    authenticator: fixedAuthenticator,
    attributes: [text(ATTR.UserName, 'alice'), text(ATTR.NasIdentifier, 'vpn-1')],
    secret,
    messageAuthenticator: true,
  });
}

// Datagrams captured from FreeRADIUS radclient 3.2.1 (secret "testing123"): an independent implementation.
const RADCLIENT = {
  secret: Buffer.from('testing123'),
  /** User-Name = bob, User-Password = "hello", Message-Authenticator (placed last by radclient). */
  accessRequest: hex(
    '0167003d816a67f49e4170c5ddb1948a0c1b1c3c0105626f6202123704a555ef36c3b1fade1040a6595bec5012e61bee40e4c07e1ed48df0c2b0ba122c',
  ),
  /** User-Name = bob, Acct-Status-Type = Start, Acct-Session-Id = "abc", Message-Authenticator. */
  accountingRequest: hex(
    '04480036935b135f0697b1588598854c0f13a9410105626f622806000000012c0561626350126269620e7eab6468b181112d2d182f18',
  ),
  statusServer: hex('0ced0026a491a4d2b1370127679997d1fed4e79c50127bc847980262cf995ce4cc1e59801f52'),
};

describe('User-Password hiding (RFC 2865 §5.2)', () => {
  it('round-trips passwords of 1, 16, 17 and 128 bytes, padded to whole 16-byte blocks', () => {
    const random = seededRandom(1);
    for (const [length, hiddenLength] of [
      [1, 16],
      [16, 16],
      [17, 32],
      [128, 128],
    ] as const) {
      // Non-zero bytes: trailing NULs are padding by definition and are stripped.
      const password = Buffer.from(Array.from({ length }, () => 1 + Math.floor(random() * 255)));
      const hidden = encryptUserPassword(password, secret, fixedAuthenticator);
      assert.equal(hidden.length, hiddenLength);
      assert.notDeepEqual(hidden.subarray(0, length), password);
      assert.deepEqual(decryptUserPassword(hidden, secret, fixedAuthenticator), password);
      assert.notDeepEqual(decryptUserPassword(hidden, Buffer.from('other'), fixedAuthenticator), password);
    }
  });

  it('hides an empty password as one block and refuses one over 128 bytes', () => {
    const hidden = encryptUserPassword(Buffer.alloc(0), secret, fixedAuthenticator);
    assert.equal(hidden.length, 16);
    assert.deepEqual(decryptUserPassword(hidden, secret, fixedAuthenticator), Buffer.alloc(0));
    assert.throws(() => encryptUserPassword(Buffer.alloc(129, 0x61), secret, fixedAuthenticator), RangeError);
  });

  it('matches the RFC 2865 §7.1 example in both directions', () => {
    const rfcSecret = Buffer.from('xyzzy5461');
    const authenticator = hex('0f403f9473978057bd83d5cb98f4227a');
    const hidden = hex('0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee');
    assert.deepEqual(encryptUserPassword(Buffer.from('arctangent'), rfcSecret, authenticator), hidden);
    assert.deepEqual(decryptUserPassword(hidden, rfcSecret, authenticator), Buffer.from('arctangent'));
  });

  it('refuses hidden values of 0, 15, 17 and 144 bytes', () => {
    for (const length of [0, 15, 17, 144]) {
      assert.equal(
        decryptUserPassword(Buffer.alloc(length, 1), secret, fixedAuthenticator),
        undefined,
        `${length}`,
      );
    }
  });

  it("reads radclient's hidden password", () => {
    const packet = decoded(RADCLIENT.accessRequest);
    const hidden = firstAttribute(packet, ATTR.UserPassword);
    assert.ok(hidden);
    assert.deepEqual(
      decryptUserPassword(hidden, RADCLIENT.secret, packet.authenticator),
      Buffer.from('hello'),
    );
  });
});

describe('passwordText', () => {
  it('reads valid UTF-8 as UTF-8 and anything else as Latin-1', () => {
    assert.equal(passwordText(Buffer.from([0xe4])), 'ä');
    assert.equal(passwordText(Buffer.from('ä', 'utf8')), 'ä');
    assert.equal(passwordText(Buffer.from('pässwörd€', 'utf8')), 'pässwörd€');
    assert.equal(passwordText(Buffer.from('Pässwörd1', 'latin1')), 'Pässwörd1');
    assert.equal(passwordText(Buffer.from('plain')), 'plain');
  });

  it('strips nothing, not even a byte-order mark or spaces', () => {
    assert.equal(passwordText(Buffer.from('\uFEFF x ', 'utf8')), '\uFEFF x ');
    assert.equal(passwordText(Buffer.alloc(0)), '');
  });
});

describe('responses', () => {
  const attributes = [text(ATTR.ReplyMessage, 'Welcome, alice'), text(ATTR.FilterId, 'vpn-users')];
  const accept = () =>
    encodeResponse({
      code: CODE.AccessAccept,
      identifier: 42,
      requestAuthenticator: fixedAuthenticator,
      attributes,
      secret,
      messageAuthenticator: true,
    });

  /** RFC 3579 §3.2 then RFC 2865 §3, computed here without the codec. */
  function independentlySigned(code: number, maBasis: Buffer, body: Buffer): Buffer {
    const draft = Buffer.concat([
      Buffer.from([code, 42, 0, 0]),
      maBasis,
      hex('5012'),
      Buffer.alloc(16),
      body,
    ]);
    draft.writeUInt16BE(draft.length, 2);
    createHmac('md5', secret).update(draft).digest().copy(draft, 22);
    fixedAuthenticator.copy(draft, 4);
    createHash('md5').update(draft).update(secret).digest().copy(draft, 4);
    return draft;
  }

  it('puts the Message-Authenticator first, and verifyResponse accepts the result', () => {
    const packet = decoded(accept());
    assert.equal(packet.attributes[0]?.type, ATTR.MessageAuthenticator);
    assert.deepEqual(
      packet.attributes.slice(1).map((a) => a.type),
      [ATTR.ReplyMessage, ATTR.FilterId],
    );
    assert.equal(verifyResponse(packet, fixedAuthenticator, secret), true);
  });

  it('is byte-identical to an independent computation (golden)', () => {
    const golden =
      '022a0041b7753e96e825f2fc227d06a1191355c550127bfc8fd6b50f2e32c9ad72a2bfc13f08121057656c636f6d652c20616c6963650b0b76706e2d7573657273';
    const expected = independentlySigned(
      CODE.AccessAccept,
      fixedAuthenticator,
      Buffer.concat(attributes.map(wire)),
    );
    assert.equal(expected.toString('hex'), golden);
    assert.equal(accept().toString('hex'), golden);
  });

  it('signs an Accounting-Response MA over zero octets, or over the request authenticator for Status-Server', () => {
    const response = (requestCode?: number) =>
      encodeResponse({
        code: CODE.AccountingResponse,
        identifier: 42,
        requestAuthenticator: fixedAuthenticator,
        attributes: [],
        secret,
        messageAuthenticator: true,
        ...(requestCode === undefined ? {} : { requestCode }),
      });
    const overZeros = independentlySigned(CODE.AccountingResponse, Buffer.alloc(16), Buffer.alloc(0));
    assert.equal(
      overZeros.toString('hex'),
      '052a0026ff428a6e532e3dcc90072cd587c26d5650120c22247a35c975ab1d9375421e395c4d',
    );
    assert.deepEqual(response(), overZeros);
    assert.deepEqual(response(CODE.AccountingRequest), overZeros);
    const toStatusServer = independentlySigned(CODE.AccountingResponse, fixedAuthenticator, Buffer.alloc(0));
    assert.deepEqual(response(CODE.StatusServer), toStatusServer);
    assert.equal(verifyResponse(decoded(response()), fixedAuthenticator, secret), true);
    assert.equal(
      verifyResponse(decoded(toStatusServer), fixedAuthenticator, secret, CODE.StatusServer),
      true,
    );
    assert.equal(verifyResponse(decoded(toStatusServer), fixedAuthenticator, secret), false);
  });

  it('verifyResponse refuses a wrong request authenticator, a wrong secret, and any changed byte', () => {
    const bytes = accept();
    assert.equal(verifyResponse(decoded(bytes), Buffer.alloc(16), secret), false);
    assert.equal(verifyResponse(decoded(bytes), fixedAuthenticator, Buffer.from('other')), false);
    assert.equal(verifyResponse(decoded(bytes), Buffer.alloc(15), secret), false);
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] = (changed[i] ?? 0) ^ 0x01;
      const result = decodePacket(changed);
      if (result.ok)
        assert.equal(verifyResponse(result.packet, fixedAuthenticator, secret), false, `byte ${i}`);
    }
  });

  it('without a Message-Authenticator, the Response Authenticator alone is RFC 2865 §3', () => {
    const bytes = encodeResponse({
      code: CODE.AccessReject,
      identifier: 1,
      requestAuthenticator: fixedAuthenticator,
      attributes: [],
      secret,
      messageAuthenticator: false,
    });
    const expected = createHash('md5')
      .update(Buffer.concat([hex('03010014'), fixedAuthenticator, secret]))
      .digest();
    assert.deepEqual(bytes, Buffer.concat([hex('03010014'), expected]));
    assert.equal(verifyResponse(decoded(bytes), fixedAuthenticator, secret), true);
  });

  it('refuses to encode an over-long value, an over-long packet, or a Message-Authenticator passed in', () => {
    const base = {
      code: CODE.AccessAccept,
      identifier: 1,
      requestAuthenticator: fixedAuthenticator,
      secret,
      messageAuthenticator: true,
    };
    assert.throws(
      () => encodeResponse({ ...base, attributes: [{ type: 18, value: Buffer.alloc(254) }] }),
      RangeError,
    );
    encodeResponse({ ...base, attributes: [{ type: 18, value: Buffer.alloc(253) }] });
    const many = Array.from({ length: 17 }, () => ({ type: 18, value: Buffer.alloc(253) }));
    assert.throws(() => encodeResponse({ ...base, attributes: many }), RangeError);
    assert.throws(
      () =>
        encodeResponse({
          ...base,
          attributes: [{ type: ATTR.MessageAuthenticator, value: Buffer.alloc(16) }],
        }),
      RangeError,
    );
    assert.throws(() => encodeResponse({ ...base, identifier: 256, attributes: [] }), RangeError);
    assert.throws(
      () => encodeResponse({ ...base, attributes: [{ type: 26, value: hex('000001') }] }),
      RangeError,
    );
  });
});

describe('verifyMessageAuthenticator (requests)', () => {
  it('accepts a signed Access-Request, ours and radclient’s (MA last)', () => {
    assert.equal(verifyMessageAuthenticator(decoded(signedAccessRequest()), secret), true);
    assert.equal(verifyMessageAuthenticator(decoded(RADCLIENT.accessRequest), RADCLIENT.secret), true);
    assert.equal(verifyMessageAuthenticator(decoded(RADCLIENT.statusServer), RADCLIENT.secret), true);
  });

  it('refuses every one-byte change of the 16-byte value (3 XOR values per position)', () => {
    const bytes = signedAccessRequest();
    let checked = 0;
    for (let position = 22; position < 38; position++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const changed = Buffer.from(bytes);
        changed[position] = (changed[position] ?? 0) ^ mask;
        assert.equal(verifyMessageAuthenticator(decoded(changed), secret), false, `${position} ^ ${mask}`);
        checked += 1;
      }
    }
    assert.equal(checked, 48);
  });

  it('refuses any one-byte change elsewhere in the packet', () => {
    const bytes = signedAccessRequest();
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] = (changed[i] ?? 0) ^ 0x20;
      const result = decodePacket(changed);
      if (result.ok) assert.equal(verifyMessageAuthenticator(result.packet, secret), false, `byte ${i}`);
    }
  });

  it('is false without a Message-Authenticator and with the wrong secret', () => {
    const unsigned = encodeRequest({
      code: CODE.AccessRequest,
      identifier: 1,
      attributes: [text(ATTR.UserName, 'alice')],
      secret,
      messageAuthenticator: false,
    });
    assert.equal(verifyMessageAuthenticator(decoded(unsigned), secret), false);
    assert.equal(verifyMessageAuthenticator(decoded(signedAccessRequest()), Buffer.from('s3creT')), false);
  });

  it('carries a hidden password end to end', () => {
    const password = Buffer.from('correct horse battery', 'utf8');
    const bytes = encodeRequest({
      code: CODE.AccessRequest,
      identifier: 3,
      authenticator: fixedAuthenticator,
      attributes: [
        text(ATTR.UserName, 'alice'),
        { type: ATTR.UserPassword, value: encryptUserPassword(password, secret, fixedAuthenticator) },
      ],
      secret,
      messageAuthenticator: true,
    });
    const packet = decoded(bytes);
    assert.equal(packet.attributes[0]?.type, ATTR.MessageAuthenticator);
    assert.equal(verifyMessageAuthenticator(packet, secret), true);
    const hidden = firstAttribute(packet, ATTR.UserPassword);
    assert.ok(hidden);
    assert.deepEqual(decryptUserPassword(hidden, secret, packet.authenticator), password);
  });
});

describe('verifyAccountingRequest (RFC 2866 §3)', () => {
  const attributes = [text(ATTR.UserName, 'alice'), { type: ATTR.AcctStatusType, value: hex('00000001') }];
  const accounting = (messageAuthenticator: boolean) =>
    encodeRequest({ code: CODE.AccountingRequest, identifier: 5, attributes, secret, messageAuthenticator });

  it('accepts a correctly built request, with and without a Message-Authenticator, and radclient’s', () => {
    const bytes = accounting(false);
    const zeroed = Buffer.from(bytes).fill(0, 4, 20);
    const expected = createHash('md5').update(zeroed).update(secret).digest();
    assert.deepEqual(
      bytes.subarray(4, 20),
      expected,
      'MD5(Code+Identifier+Length+16 zeros+Attributes+Secret)',
    );
    assert.equal(verifyAccountingRequest(decoded(bytes), secret), true);
    assert.equal(verifyAccountingRequest(decoded(accounting(true)), secret), true);
    assert.equal(verifyAccountingRequest(decoded(RADCLIENT.accountingRequest), RADCLIENT.secret), true);
    assert.equal(verifyAccountingRequest(decoded(bytes), Buffer.from('other')), false);
  });

  it('refuses any one-byte change, header or body', () => {
    for (const bytes of [accounting(false), accounting(true)]) {
      for (let i = 0; i < bytes.length; i++) {
        for (const mask of [0x01, 0xff]) {
          const changed = Buffer.from(bytes);
          changed[i] = (changed[i] ?? 0) ^ mask;
          const result = decodePacket(changed);
          if (result.ok)
            assert.equal(verifyAccountingRequest(result.packet, secret), false, `byte ${i} ^ ${mask}`);
        }
      }
    }
  });

  it('checks the Message-Authenticator itself, not only the Request Authenticator that covers it', () => {
    const bytes = accounting(true);
    bytes[22] = (bytes[22] ?? 0) ^ 0x01;
    bytes.fill(0, 4, 20);
    createHash('md5').update(bytes).update(secret).digest().copy(bytes, 4);
    assert.equal(verifyAccountingRequest(decoded(bytes), secret), false);
  });

  it('computes the MA over a zero authenticator, before the Request Authenticator', () => {
    const bytes = accounting(true);
    const draft = Buffer.from(bytes).fill(0, 4, 20).fill(0, 22, 38);
    assert.deepEqual(bytes.subarray(22, 38), createHmac('md5', secret).update(draft).digest());
    assert.throws(
      () =>
        encodeRequest({
          code: CODE.AccountingRequest,
          identifier: 1,
          authenticator: fixedAuthenticator,
          attributes,
          secret,
          messageAuthenticator: false,
        }),
      RangeError,
    );
  });
});

describe('decodePacket', () => {
  it('decodes a packet and keeps raw to exactly Length bytes', () => {
    const packet = decoded(signedAccessRequest());
    assert.equal(packet.code, CODE.AccessRequest);
    assert.equal(packet.identifier, 9);
    assert.deepEqual(packet.authenticator, fixedAuthenticator);
    assert.deepEqual(
      packet.attributes.map((a) => a.type),
      [ATTR.MessageAuthenticator, ATTR.UserName, ATTR.NasIdentifier],
    );
    assert.equal(firstAttribute(packet, ATTR.UserName)?.toString(), 'alice');
    assert.equal(decoded(rawPacket([])).attributes.length, 0);
  });

  it('ignores padding after Length (RFC 2865 §3), and the signature still verifies', () => {
    const bytes = signedAccessRequest();
    const packet = decoded(Buffer.concat([bytes, Buffer.from('padding!!')]));
    assert.deepEqual(packet.raw, bytes);
    assert.equal(verifyMessageAuthenticator(packet, secret), true);
  });

  it('refuses each malformation with a reason', () => {
    const cases: [string, Buffer, RegExp][] = [
      ['empty', Buffer.alloc(0), /shorter than the 20-byte header/],
      ['short', rawPacket([]).subarray(0, 19), /shorter than the 20-byte header/],
      ['Length < 20', rawPacket([], { length: 19 }), /below 20/],
      ['Length > 4096', Buffer.concat([rawPacket([], { length: 4097 }), Buffer.alloc(4077)]), /above 4096/],
      ['truncated', rawPacket([[1, 7, 0x61, 0x6c, 0x69, 0x63, 0x65]], { length: 30 }), /truncated/],
      ['attribute length 0', rawPacket([[1, 0, 0x61]]), /length 0 \(below 2\)/],
      ['attribute length 1', rawPacket([[1, 1, 0x61]]), /length 1 \(below 2\)/],
      ['attribute overrun', rawPacket([[1, 9, 0x61, 0x6c]]), /overruns/],
      ['lone type octet', rawPacket([[1, 3, 0x61], [18]]), /no length octet/],
      ['MA of 17', rawPacket([[80, 17, ...new Array(15).fill(0)]]), /Message-Authenticator has length 17/],
      ['MA of 19', rawPacket([[80, 19, ...new Array(17).fill(0)]]), /Message-Authenticator has length 19/],
      [
        'two MAs',
        rawPacket([
          [80, 18, ...new Array(16).fill(0)],
          [80, 18, ...new Array(16).fill(1)],
        ]),
        /more than one/,
      ],
      ['VSA of 5', rawPacket([[26, 5, 0, 0, 1]]), /Vendor-Specific .* below 6/],
      ['VSA of 2', rawPacket([[26, 2]]), /Vendor-Specific/],
    ];
    for (const [name, bytes, reason] of cases) assert.match(refusal(bytes), reason, name);
  });

  it('accepts the boundaries: Length 20, Length 4096, an attribute of length 2, a VSA of 6', () => {
    decoded(rawPacket([]));
    decoded(
      rawPacket([
        [1, 2],
        [26, 6, 0, 0, 1, 0x37],
      ]),
    );
    const long = Array.from({ length: 15 }, () => [18, 255, ...new Array(253).fill(0x61)]);
    const maxed = rawPacket([...long, [18, 251, ...new Array(249).fill(0x61)]]);
    assert.equal(maxed.length, 4096);
    assert.equal(decoded(maxed).attributes.length, 16);
  });

  it('never throws, on random datagrams or on mutations of a valid one (bounded fuzz)', () => {
    const random = seededRandom(0x5eed);
    const byte = () => Math.floor(random() * 256);
    const exercise = (bytes: Buffer) => {
      const result = decodePacket(bytes);
      if (!result.ok) return undefined;
      verifyMessageAuthenticator(result.packet, secret);
      verifyAccountingRequest(result.packet, secret);
      verifyResponse(result.packet, fixedAuthenticator, secret);
      return result.packet;
    };
    for (let n = 0; n < 20_000; n++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 301) }, byte));
      // A plausible Length now and then, so the attribute walk is reached, not only the header checks.
      if (bytes.length >= 20 && random() < 0.5)
        bytes.writeUInt16BE(20 + Math.floor(random() * (bytes.length - 19)), 2);
      exercise(bytes);
    }
    const original = signedAccessRequest();
    for (let n = 0; n < 20_000; n++) {
      let bytes = Buffer.from(original);
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = byte();
      if (random() < 0.3) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
      const packet = exercise(bytes);
      if (packet && !packet.raw.equals(original)) {
        assert.equal(verifyMessageAuthenticator(packet, secret), false, `mutation ${n} verified`);
      }
    }
  });
});

describe('dictionary', () => {
  it('finds attributes by name, case-insensitively', () => {
    assert.deepEqual(findAttribute('filter-id'), {
      name: 'Filter-Id',
      vendor: undefined,
      code: 11,
      type: 'string',
    });
    assert.equal(findAttribute('MS-PRIMARY-DNS-SERVER')?.vendor, VENDORS.Microsoft);
    assert.equal(findAttribute('Citrix-Group-Names')?.code, 14);
    assert.equal(findAttribute('Tunnel-Private-Group-Id')?.code, 81);
    assert.equal(findAttribute('MS-MPPE-Send-Key'), undefined, 'encrypted attributes are not offered');
    assert.equal(findAttribute('No-Such-Attribute'), undefined);
  });

  it('encodes each type', () => {
    const def = (name: string) => findAttribute(name) ?? assert.fail(name);
    assert.deepEqual(encodeValue(def('Session-Timeout'), 3600), hex('00000e10'));
    assert.deepEqual(encodeValue(def('Session-Timeout'), '3600'), hex('00000e10'));
    assert.deepEqual(encodeValue(def('Session-Timeout'), 4_294_967_295), hex('ffffffff'));
    assert.deepEqual(encodeValue(def('Tunnel-Type'), 13), hex('0000000d'), 'VLAN, tag 0');
    assert.deepEqual(encodeValue(def('Filter-Id'), 'vpn-users'), Buffer.from('vpn-users'));
    assert.deepEqual(encodeValue(def('Reply-Message'), 'Grüß'), Buffer.from('Grüß', 'utf8'));
    assert.deepEqual(encodeValue(def('Class'), '0x0A1b'), hex('0a1b'));
    assert.deepEqual(encodeValue(def('Framed-IP-Address'), '10.0.0.1'), hex('0a000001'));
    assert.deepEqual(
      encodeValue(def('MS-User-IPv6-Address'), '2001:db8::1'),
      hex('20010db8000000000000000000000001'),
    );
    assert.deepEqual(
      encodeValue(def('NAS-IPv6-Address'), '::ffff:10.0.0.1'),
      hex('00000000000000000000ffff0a000001'),
    );
    assert.deepEqual(encodeValue(def('NAS-IPv6-Address'), '::'), Buffer.alloc(16));
  });

  it('explains a bad value in words fit for a config error', () => {
    const def = (name: string) => findAttribute(name) ?? assert.fail(name);
    assert.throws(() => encodeValue(def('Reply-Message'), 'x'.repeat(254)), /must be at most 253 bytes/);
    encodeValue(def('Reply-Message'), 'x'.repeat(253));
    assert.throws(() => encodeValue(def('Citrix-Group-Names'), 'x'.repeat(248)), /must be at most 247 bytes/);
    encodeValue(def('Citrix-Group-Names'), 'x'.repeat(247));
    for (const bad of ['10.0.0.256', '10.0.0', 'vpn.example.com', '010.0.0.1', 167772161]) {
      assert.throws(() => encodeValue(def('Framed-IP-Address'), bad), /must be an IPv4 address/, String(bad));
    }
    for (const bad of [-1, '-1', 4_294_967_296, '4294967296', 1.5, '1e3', '', 'ten']) {
      assert.throws(
        () => encodeValue(def('Session-Timeout'), bad),
        /must be an integer from 0 to 4294967295/,
        `${bad}`,
      );
    }
    assert.throws(() => encodeValue(def('NAS-IPv6-Address'), 'fe80::1%eth0'), /must be an IPv6 address/);
    assert.deepEqual(encodeValue(def('Class'), '0a1b'), Buffer.from('0a1b'), 'octets without 0x are text');
    assert.deepEqual(encodeValue(def('Class'), '0x0a1b'), Buffer.from([0x0a, 0x1b]));
    assert.throws(() => encodeValue(def('Class'), '0xabc'), /0x/);
    assert.throws(() => encodeValue(def('Filter-Id'), ''), /must not be empty/);
    assert.throws(() => encodeValue(def('Tunnel-Private-Group-Id'), '\u0001100'), /RFC 2868 tag/);
  });

  it('wraps vendor attributes in Vendor-Specific (golden bytes)', () => {
    const dns = findAttribute('MS-Primary-DNS-Server') ?? assert.fail();
    assert.deepEqual(
      wire(toWireAttribute(dns, encodeValue(dns, '10.0.0.1'))),
      hex('1a 0c 00 00 01 37 1c 06 0a 00 00 01'),
    );
    const groups = findAttribute('Citrix-Group-Names') ?? assert.fail();
    assert.deepEqual(
      wire(toWireAttribute(groups, encodeValue(groups, 'ops'))),
      hex('1a 0b 00 00 00 42 0e 05 6f 70 73'),
    );
    const filter = findAttribute('Filter-Id') ?? assert.fail();
    assert.deepEqual(toWireAttribute(filter, Buffer.from('x')), { type: 11, value: Buffer.from('x') });
    assert.throws(() => toWireAttribute(groups, Buffer.alloc(248)), RangeError);
  });
});
