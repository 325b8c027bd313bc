import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createNetworkList, normaliseAddress, parseAddressOrCidr } from '../../src/core/policy/networks.ts';

const OFFICE = '10.1.0.0/16';
const VPN_V6 = 'fd00:1234::/32';
const JUMP_HOST = '192.0.2.10';

describe('normaliseAddress', () => {
  const cases: Array<[string, string | undefined]> = [
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['0:0:0:0:0:ffff:a01:203', '10.1.2.3'],
    ['::ffff:0:0', '0.0.0.0'],
    ['2001:DB8::0001', '2001:db8::1'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::1', '::1'],
    // Not v4-mapped: the last 32 bits after ::ffff: need two groups.
    ['::ffff:1', '::ffff:1'],
    ['', undefined],
    ['localhost', undefined],
    ['10.1.2', undefined],
    ['010.1.2.3', undefined],
    ['10.1.2.3:8080', undefined],
    ['[::1]', undefined],
    ['[::1]:443', undefined],
    [' 10.1.2.3', undefined],
    ['10.0.0.0/8', undefined],
  ];
  for (const [input, expected] of cases) {
    test(`gives one spelling per address: ${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(normaliseAddress(input), expected);
    });
  }
});

describe('parseAddressOrCidr', () => {
  for (const entry of [
    '10.0.0.1',
    '::1',
    '10.0.0.0/8',
    'fd00::/8',
    '0.0.0.0/0',
    '::/0',
    '10.0.0.0/32',
    '::1/128',
  ]) {
    test(`accepts ${entry}`, () => assert.ok(parseAddressOrCidr(entry)));
  }
  for (const entry of [
    '',
    'intranet',
    '10.0.0.0/',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/8/9',
    '10.0.0.0/-1',
    '10.0.0.0/8 ',
    '10.0.0.0/ 8',
    '10.0.0.0/0x8',
    'fe80::1%eth0',
    '10.0.0.1-10.0.0.9',
    '[::1]',
  ]) {
    test(`refuses ${JSON.stringify(entry)}`, () => assert.equal(parseAddressOrCidr(entry), undefined));
  }
  test('returns a list that matches the entry', () => {
    assert.equal(parseAddressOrCidr('10.0.0.0/8')?.check('10.9.9.9', 'ipv4'), true);
    assert.equal(parseAddressOrCidr('10.0.0.0/8')?.check('11.0.0.1', 'ipv4'), false);
  });
});

describe('createNetworkList', () => {
  const trusted = createNetworkList([OFFICE, VPN_V6, JUMP_HOST]);

  const cases: Array<[string, string, boolean]> = [
    ['an office address', '10.1.200.7', true],
    ['the edge of the office network', '10.1.255.255', true],
    ['just outside the office network', '10.2.0.0', false],
    ['the office address as a dual-stack socket reports it', '::ffff:10.1.2.3', true],
    ['the office address in hex v4-mapped form', '::ffff:a01:203', true],
    ['the jump host', JUMP_HOST, true],
    ['the jump host, v4-mapped', `::ffff:${JUMP_HOST}`, true],
    ['the jump host neighbour', '192.0.2.11', false],
    ['a VPN address', 'fd00:1234:5::9', true],
    ['a VPN address in upper case', 'FD00:1234:5::9', true],
    ['a VPN address with a zone id', 'fd00:1234::1%tun0', true],
    ['an internet address', '203.0.113.1', false],
    ['an internet IPv6 address', '2001:db8::1', false],
  ];
  for (const [persona, address, expected] of cases) {
    test(`${expected ? 'contains' : 'does not contain'} ${persona} (${address})`, () => {
      assert.equal(trusted.contains(address), expected);
    });
  }

  for (const address of ['', 'not-an-ip', '10.1.2.3:80', '[::1]', '10.1.2', ' 10.1.2.3', '10.1.2.3\n']) {
    test(`never matches an invalid address: ${JSON.stringify(address)}`, () => {
      assert.equal(createNetworkList(['0.0.0.0/0', '::/0']).contains(address), false);
    });
  }

  test('an empty list contains nothing', () => {
    const none = createNetworkList([]);
    assert.equal(none.contains('127.0.0.1'), false);
    assert.equal(none.contains('::1'), false);
  });

  test('a v4-mapped IPv6 entry matches the plain IPv4 address', () => {
    assert.equal(createNetworkList(['::ffff:10.0.0.0/104']).contains('10.5.6.7'), true);
  });

  test('throws naming the invalid entry', () => {
    assert.throws(() => createNetworkList([OFFICE, '10.0.0.0/33']), /'10\.0\.0\.0\/33'/);
    assert.throws(() => createNetworkList(['office-lan']), /'office-lan'/);
  });

  test('keeps the entries, frozen, for explain output', () => {
    assert.deepEqual(trusted.entries, [OFFICE, VPN_V6, JUMP_HOST]);
    assert.ok(Object.isFrozen(trusted.entries));
  });
});
