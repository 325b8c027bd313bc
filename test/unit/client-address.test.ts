import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isMfaError } from '../../src/core/errors.ts';
import { createNetworkList } from '../../src/core/policy/networks.ts';
import { resolveClient } from '../../src/http/client-address.ts';

// The load balancer and the CDN edge in front of it are trusted; nothing else is.
const LOAD_BALANCER = '10.0.0.5';
const CDN_EDGE = '198.51.100.20';
const PROXIES = createNetworkList([LOAD_BALANCER, '198.51.100.0/24', 'fd00::5']);
const NO_PROXIES = createNetworkList([]);

const REMOTE_USER = '203.0.113.7';
const OFFICE_ADDRESS = '10.1.2.3';

function resolve(fields: {
  socket?: string | undefined;
  xff?: string | string[];
  proto?: string | string[];
  proxies?: typeof PROXIES;
  socketScheme?: 'http' | 'https';
}) {
  return resolveClient({
    socketAddress: 'socket' in fields ? fields.socket : REMOTE_USER,
    forwardedFor: fields.xff,
    forwardedProto: fields.proto,
    trustedProxies: fields.proxies ?? PROXIES,
    socketScheme: fields.socketScheme ?? 'https',
  });
}

function assertRefused(run: () => unknown): void {
  assert.throws(run, (error: unknown) => isMfaError(error, 'input.invalid'));
}

describe('resolveClient', () => {
  test('X-Forwarded-For from an untrusted peer is ignored', () => {
    const client = resolve({ socket: REMOTE_USER, xff: OFFICE_ADDRESS, proto: 'http' });
    assert.deepEqual(client, { address: REMOTE_USER, scheme: 'https', viaProxy: false });
  });

  test('X-Forwarded-For is ignored when no proxy is trusted (the default)', () => {
    const client = resolve({ socket: LOAD_BALANCER, xff: OFFICE_ADDRESS, proxies: NO_PROXIES });
    assert.equal(client.address, LOAD_BALANCER);
    assert.equal(client.viaProxy, false);
  });

  test('a malformed X-Forwarded-For from an untrusted peer is ignored, not an error', () => {
    assert.equal(resolve({ socket: REMOTE_USER, xff: 'garbage, ,,' }).address, REMOTE_USER);
  });

  test('through a trusted proxy, the rightmost untrusted entry is the client', () => {
    const client = resolve({ socket: LOAD_BALANCER, xff: REMOTE_USER });
    assert.deepEqual(client, { address: REMOTE_USER, scheme: 'https', viaProxy: true });
  });

  test('spoofed leftmost entries are ignored: the client cannot claim an office address', () => {
    const xff = `${OFFICE_ADDRESS}, 10.1.9.9, ${REMOTE_USER}`;
    assert.equal(resolve({ socket: LOAD_BALANCER, xff }).address, REMOTE_USER);
  });

  test('spoofed garbage left of the client is never read', () => {
    const xff = `not-an-ip, <script>, ${REMOTE_USER}`;
    assert.equal(resolve({ socket: LOAD_BALANCER, xff }).address, REMOTE_USER);
  });

  test('trusted proxies are skipped right to left: CDN edge then load balancer', () => {
    const xff = `${OFFICE_ADDRESS}, ${REMOTE_USER}, ${CDN_EDGE}`;
    assert.equal(resolve({ socket: LOAD_BALANCER, xff }).address, REMOTE_USER);
  });

  test('a client spoofing a trusted proxy address left of itself gains nothing', () => {
    const xff = `${CDN_EDGE}, ${REMOTE_USER}`;
    assert.equal(resolve({ socket: LOAD_BALANCER, xff }).address, REMOTE_USER);
  });

  test('repeated X-Forwarded-For lines are one list, read across lines', () => {
    const client = resolve({ socket: LOAD_BALANCER, xff: [`${OFFICE_ADDRESS}, ${REMOTE_USER}`, CDN_EDGE] });
    assert.equal(client.address, REMOTE_USER);
    const lastLine = resolve({ socket: LOAD_BALANCER, xff: [OFFICE_ADDRESS, REMOTE_USER] });
    assert.equal(lastLine.address, REMOTE_USER);
  });

  test('when every entry is a trusted proxy, the leftmost is the client', () => {
    const client = resolve({ socket: LOAD_BALANCER, xff: `${CDN_EDGE}, 198.51.100.21` });
    assert.equal(client.address, CDN_EDGE);
  });

  test('a trusted proxy without X-Forwarded-For is itself the client', () => {
    assert.deepEqual(resolve({ socket: LOAD_BALANCER }), {
      address: LOAD_BALANCER,
      scheme: 'https',
      viaProxy: true,
    });
    assert.equal(resolve({ socket: LOAD_BALANCER, xff: '  ' }).address, LOAD_BALANCER);
  });

  test('addresses are normalised: v4-mapped socket and entries, IPv6 case', () => {
    assert.equal(resolve({ socket: `::ffff:${REMOTE_USER}` }).address, REMOTE_USER);
    const viaMapped = resolve({ socket: `::ffff:${LOAD_BALANCER}`, xff: `::ffff:${REMOTE_USER}` });
    assert.deepEqual(viaMapped, { address: REMOTE_USER, scheme: 'https', viaProxy: true });
    assert.equal(resolve({ socket: 'FD00::5', xff: '2001:DB8::1' }).address, '2001:db8::1');
  });

  test('a v4-mapped entry for a trusted proxy is skipped like the plain address', () => {
    const xff = `${REMOTE_USER}, ::ffff:${CDN_EDGE}`;
    assert.equal(resolve({ socket: LOAD_BALANCER, xff }).address, REMOTE_USER);
  });

  for (const xff of [
    `${REMOTE_USER}, not-an-ip`,
    `${REMOTE_USER}:5555`,
    `[${'2001:db8::1'}]`,
    `${REMOTE_USER},`,
    `${REMOTE_USER}, , ${CDN_EDGE}`,
    'unknown',
  ]) {
    test(`a malformed entry reached through trusted proxies is refused: ${JSON.stringify(xff)}`, () => {
      assertRefused(() => resolve({ socket: LOAD_BALANCER, xff }));
    });
  }

  test('a missing socket address is refused', () => {
    assertRefused(() => resolve({ socket: undefined }));
  });

  test('a socket address that is not an IP is refused', () => {
    assertRefused(() => resolve({ socket: 'localhost' }));
  });
});

describe('scheme', () => {
  test('X-Forwarded-Proto from an untrusted peer is ignored', () => {
    assert.equal(resolve({ socket: REMOTE_USER, proto: 'https', socketScheme: 'http' }).scheme, 'http');
    assert.equal(resolve({ socket: REMOTE_USER, proto: 'http', socketScheme: 'https' }).scheme, 'https');
  });

  test('X-Forwarded-Proto from a trusted proxy is believed, last value wins', () => {
    assert.equal(resolve({ socket: LOAD_BALANCER, proto: 'https', socketScheme: 'http' }).scheme, 'https');
    assert.equal(
      resolve({ socket: LOAD_BALANCER, proto: 'http, https', socketScheme: 'http' }).scheme,
      'https',
    );
    assert.equal(
      resolve({ socket: LOAD_BALANCER, proto: ['https', 'http'], socketScheme: 'https' }).scheme,
      'http',
    );
    assert.equal(resolve({ socket: LOAD_BALANCER, proto: ' HTTPS ', socketScheme: 'http' }).scheme, 'https');
  });

  test('an unknown X-Forwarded-Proto falls back to the socket scheme', () => {
    assert.equal(resolve({ socket: LOAD_BALANCER, proto: 'wss', socketScheme: 'http' }).scheme, 'http');
    assert.equal(
      resolve({ socket: LOAD_BALANCER, proto: 'https, gopher', socketScheme: 'http' }).scheme,
      'http',
    );
    assert.equal(resolve({ socket: LOAD_BALANCER, socketScheme: 'https' }).scheme, 'https');
  });
});
