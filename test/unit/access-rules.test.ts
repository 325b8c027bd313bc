import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AccessRule, createAccessPolicy, type Level } from '../../src/core/policy/access-rules.ts';

// Networks
const OFFICE_NET = '10.1.0.0/16';
const LAB_NET = '10.20.0.0/16';
// Client addresses
const OFFICE = '10.1.2.3';
const OFFICE_DUAL_STACK = '::ffff:10.1.2.3';
const LAB = '10.20.0.9';
const INTERNET = '203.0.113.7';

function rule(name: string, fields: Partial<AccessRule>): AccessRule {
  return {
    name,
    hosts: [],
    pathPrefix: '/',
    policy: 'two_factor',
    users: [],
    groups: [],
    trustedNetworks: [],
    trustedNetworkSkips: 'second_factor',
    ...fields,
  };
}

const RULES: AccessRule[] = [
  rule('admin-console', {
    hosts: ['intranet.example.com'],
    pathPrefix: '/admin',
    groups: ['IT-Admins'],
    trustedNetworkSkips: 'both',
  }),
  rule('public-pages', { hosts: ['intranet.example.com'], pathPrefix: '/public', policy: 'bypass' }),
  rule('internal-api', { hosts: ['intranet.example.com'], pathPrefix: '/internal-api', policy: 'deny' }),
  rule('wiki-tls-port', {
    hosts: ['wiki.example.com:8443'],
    policy: 'one_factor',
    trustedNetworks: [LAB_NET],
    trustedNetworkSkips: 'both',
  }),
  rule('ipv6-app', { hosts: ['[2001:DB8::5]:8080'] }),
  rule('payroll', { hosts: ['payroll.example.com'], users: ['Carol'], trustedNetworkSkips: 'both' }),
  rule('intranet', { hosts: ['intranet.example.com', 'intranet'] }),
];

const policy = createAccessPolicy(RULES, [OFFICE_NET]);

const at = (host: string, matchPath: string, port = 443) => ({ host, port, matchPath });

describe('decide', () => {
  const cases: Array<[string, ReturnType<typeof at>, string, string | undefined, Level]> = [
    [
      'an intranet page from the internet needs two factors',
      at('intranet.example.com', '/wiki'),
      INTERNET,
      'intranet',
      'two_factor',
    ],
    [
      'an intranet page from the office skips the second factor',
      at('intranet.example.com', '/wiki'),
      OFFICE,
      'intranet',
      'one_factor',
    ],
    [
      'a dual-stack office address is the office',
      at('intranet.example.com', '/'),
      OFFICE_DUAL_STACK,
      'intranet',
      'one_factor',
    ],
    [
      'the lab is not trusted for the intranet',
      at('intranet.example.com', '/'),
      LAB,
      'intranet',
      'two_factor',
    ],
    [
      'public pages are open to everyone',
      at('intranet.example.com', '/public/logo.png'),
      INTERNET,
      'public-pages',
      'bypass',
    ],
    [
      'the internal API is denied from the internet',
      at('intranet.example.com', '/internal-api/v1'),
      INTERNET,
      'internal-api',
      'deny',
    ],
    [
      'a trusted network never lifts deny',
      at('intranet.example.com', '/internal-api'),
      OFFICE,
      'internal-api',
      'deny',
    ],
    [
      'the admin console from the internet needs two factors',
      at('intranet.example.com', '/admin/users'),
      INTERNET,
      'admin-console',
      'two_factor',
    ],
    [
      'a restricted rule still asks the password from a network that skips both',
      at('intranet.example.com', '/admin'),
      OFFICE,
      'admin-console',
      'one_factor',
    ],
    [
      '/administrator is not under /admin',
      at('intranet.example.com', '/administrator'),
      INTERNET,
      'intranet',
      'two_factor',
    ],
    [
      'the wiki on its TLS port needs one factor',
      at('wiki.example.com', '/', 8443),
      INTERNET,
      'wiki-tls-port',
      'one_factor',
    ],
    [
      'the wiki from the lab (its own trusted network, skips both) is bypassed',
      at('wiki.example.com', '/x', 8443),
      LAB,
      'wiki-tls-port',
      'bypass',
    ],
    [
      'the wiki from the office (global network, skips both) is bypassed',
      at('wiki.example.com', '/x', 8443),
      OFFICE,
      'wiki-tls-port',
      'bypass',
    ],
    [
      'the wiki on another port matches no rule',
      at('wiki.example.com', '/', 443),
      INTERNET,
      undefined,
      'deny',
    ],
    [
      'an IPv6 host literal matches its bracketed, port-specific entry',
      at('[2001:db8::5]', '/', 8080),
      INTERNET,
      'ipv6-app',
      'two_factor',
    ],
    [
      'an IPv6 host literal on another port matches no rule',
      at('[2001:db8::5]', '/', 443),
      INTERNET,
      undefined,
      'deny',
    ],
    [
      'a host entry without a port matches any port',
      at('intranet.example.com', '/', 8080),
      INTERNET,
      'intranet',
      'two_factor',
    ],
    ['a second host name of a rule matches', at('intranet', '/', 80), INTERNET, 'intranet', 'two_factor'],
    ['an unknown host is denied by default', at('evil.example.com', '/'), OFFICE, undefined, 'deny'],
    [
      'payroll, restricted to one user, keeps the password from the office',
      at('payroll.example.com', '/'),
      OFFICE,
      'payroll',
      'one_factor',
    ],
    [
      'an invalid client address is never trusted',
      at('intranet.example.com', '/'),
      'not-an-ip',
      'intranet',
      'two_factor',
    ],
    [
      'a client address with a port is never trusted',
      at('intranet.example.com', '/'),
      `${OFFICE}:5555`,
      'intranet',
      'two_factor',
    ],
  ];
  for (const [name, target, client, ruleName, required] of cases) {
    test(name, () => {
      const decision = policy.decide(target, client);
      assert.equal(decision.rule?.name, ruleName);
      assert.equal(decision.required, required);
      assert.equal(
        decision.ruleIndex,
        ruleName === undefined ? -1 : RULES.findIndex((r) => r.name === ruleName),
      );
      assert.ok(decision.reasons.length > 0);
    });
  }

  test('no matching rule denies, saying the default is deny', () => {
    const decision = policy.decide(at('evil.example.com', '/'), INTERNET);
    assert.deepEqual(decision, {
      ruleIndex: -1,
      rule: undefined,
      policy: 'deny',
      required: 'deny',
      trustedNetwork: false,
      reasons: ['no rule matches; the default is deny'],
    });
  });

  test('an empty rule list denies everything, even from a trusted network', () => {
    const decision = createAccessPolicy([], [OFFICE_NET]).decide(at('intranet.example.com', '/'), OFFICE);
    assert.equal(decision.required, 'deny');
  });

  test('the first matching rule wins, even when a later one is looser', () => {
    const strictFirst = createAccessPolicy(
      [rule('strict', { pathPrefix: '/app' }), rule('loose', { pathPrefix: '/app', policy: 'bypass' })],
      [],
    );
    assert.equal(strictFirst.decide(at('a', '/app/x'), INTERNET).rule?.name, 'strict');
  });

  test('a trusted network skipping the second factor does not lift one_factor', () => {
    const p = createAccessPolicy([rule('one', { policy: 'one_factor' })], [OFFICE_NET]);
    const decision = p.decide(at('a', '/'), OFFICE);
    assert.equal(decision.required, 'one_factor');
    assert.equal(decision.trustedNetwork, true);
  });

  test('bypass never changes, trusted network or not', () => {
    const p = createAccessPolicy(
      [rule('open', { policy: 'bypass', trustedNetworkSkips: 'both' })],
      [OFFICE_NET],
    );
    assert.equal(p.decide(at('a', '/'), OFFICE).required, 'bypass');
    assert.equal(p.decide(at('a', '/'), INTERNET).required, 'bypass');
  });

  test('the decision keeps the rule policy and the trusted-network flag apart from the required level', () => {
    const decision = policy.decide(at('intranet.example.com', '/'), OFFICE);
    assert.equal(decision.policy, 'two_factor');
    assert.equal(decision.required, 'one_factor');
    assert.equal(decision.trustedNetwork, true);
    assert.match(decision.reasons.join('\n'), /10\.1\.2\.3 is in a trusted network/);
  });

  test('trusted networks are a criterion of the rule: a per-app network does not apply to other apps', () => {
    assert.equal(policy.decide(at('intranet.example.com', '/'), LAB).trustedNetwork, false);
    assert.equal(policy.decide(at('wiki.example.com', '/', 8443), LAB).trustedNetwork, true);
  });
});

describe('path prefix', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/app', '/app', true],
    ['/app', '/app/', true],
    ['/app', '/app/x/y', true],
    ['/app', '/apple', false],
    ['/app', '/ap', false],
    ['/app', '/', false],
    ['/app/', '/app', true],
    ['/app/', '/app/x', true],
    ['/app/', '/apple', false],
    ['/', '/', true],
    ['/', '/anything/at/all', true],
    ['/a/b', '/a/b/c', true],
    ['/a/b', '/a/bc', false],
    ['/App', '/app', false],
  ];
  for (const [prefix, path, expected] of cases) {
    test(`matches on a segment boundary: '${prefix}' ${expected ? 'matches' : 'does not match'} '${path}'`, () => {
      const p = createAccessPolicy([rule('only', { pathPrefix: prefix })], []);
      assert.equal(p.decide(at('a', path), INTERNET).ruleIndex, expected ? 0 : -1);
    });
  }
});

describe('authorize', () => {
  const alice = { username: 'alice', groups: ['staff'] };
  const bob = { username: 'bob', groups: ['it-admins', 'staff'] };
  const carol = { username: 'carol', groups: [] };
  const mallory = { username: 'mallory', groups: ['Contractors'] };

  const admin = policy.decide(at('intranet.example.com', '/admin'), INTERNET);
  const payroll = policy.decide(at('payroll.example.com', '/'), INTERNET);
  const intranet = policy.decide(at('intranet.example.com', '/'), INTERNET);

  const cases: Array<[string, typeof admin, typeof alice, boolean]> = [
    ['a member of a listed group is allowed (group compared case-insensitively)', admin, bob, true],
    ['a user outside the listed groups is refused', admin, alice, false],
    ['a listed user is allowed (username compared case-insensitively)', payroll, carol, true],
    ['an unlisted user is refused', payroll, mallory, false],
    ['everyone signed in is allowed when the rule restricts no one', intranet, mallory, true],
  ];
  for (const [name, decision, subject, allowed] of cases) {
    test(name, () => {
      const result = policy.authorize(decision, subject);
      assert.equal(result.allowed, allowed);
      assert.ok(result.reason.length > 0);
    });
  }

  test('a user listed in upper case matches any case of the name', () => {
    assert.equal(policy.authorize(payroll, { username: 'CAROL', groups: [] }).allowed, true);
  });

  test('a decision without a rule is never authorised', () => {
    const none = policy.decide(at('evil.example.com', '/'), INTERNET);
    assert.equal(policy.authorize(none, bob).allowed, false);
  });

  test('a deny decision is never authorised, whoever asks', () => {
    const denied = policy.decide(at('intranet.example.com', '/internal-api'), OFFICE);
    assert.equal(policy.authorize(denied, bob).allowed, false);
  });
});

describe('createAccessPolicy', () => {
  test('refuses an invalid trusted network, naming it', () => {
    assert.throws(() => createAccessPolicy([rule('x', { trustedNetworks: ['office'] })], []), /'office'/);
    assert.throws(() => createAccessPolicy([], ['10.0.0.0/40']), /'10\.0\.0\.0\/40'/);
  });

  for (const host of ['*.example.com', 'a b', 'host:0', 'host:65536', 'host:', '[::1', '[::1]x', '[nope]']) {
    test(`refuses the host entry ${JSON.stringify(host)}, naming the rule`, () => {
      assert.throws(() => createAccessPolicy([rule('bad-host', { hosts: [host] })], []), /bad-host/);
    });
  }

  for (const prefix of [
    'app',
    '/a//b',
    '/a/../b',
    '/a/./b',
    '/a;x',
    '/a\\b',
    '/caf\u00e9',
    '/%41pp',
    '/a%2Fb',
    '/a%2fb',
    '/%zz',
  ]) {
    test(`refuses a pathPrefix no canonical path can have: ${JSON.stringify(prefix)}`, () => {
      assert.throws(() => createAccessPolicy([rule('bad-prefix', { pathPrefix: prefix })], []), /bad-prefix/);
    });
  }

  test('accepts a pathPrefix with a canonical escape', () => {
    const p = createAccessPolicy([rule('escaped', { pathPrefix: '/caf%C3%A9' })], []);
    assert.equal(p.decide(at('a', '/caf%C3%A9/menu'), INTERNET).ruleIndex, 0);
  });

  test('normalises host entries: upper case, trailing dot, bare IPv6', () => {
    const p = createAccessPolicy([rule('h', { hosts: ['Intranet.Example.COM.', '::1'] })], []);
    assert.equal(p.decide(at('intranet.example.com', '/'), INTERNET).ruleIndex, 0);
    assert.equal(p.decide(at('[::1]', '/'), INTERNET).ruleIndex, 0);
  });

  test('exposes the rules it was built from', () => {
    assert.equal(policy.rules, RULES);
  });
});

describe('explain', () => {
  test('says why each rule before the chosen one was skipped', () => {
    const { matches, decision } = policy.explain(at('intranet.example.com', '/wiki'), INTERNET);
    assert.equal(matches.length, RULES.length);
    assert.equal(decision.rule?.name, 'intranet');
    assert.match(matches[0]?.why ?? '', /path '\/wiki' is not under '\/admin'/);
    assert.match(
      matches[3]?.why ?? '',
      /host 'intranet\.example\.com' port 443 is not one of wiki\.example\.com:8443/,
    );
    const chosen = matches[decision.ruleIndex];
    assert.equal(chosen?.matches, true);
    assert.equal(chosen?.why, 'matches');
  });

  test('agrees with decide: the first rule it reports as matching is the chosen one', () => {
    for (const target of [
      at('intranet.example.com', '/public/x'),
      at('wiki.example.com', '/', 8443),
      at('x', '/'),
    ]) {
      const { matches, decision } = policy.explain(target, OFFICE);
      assert.equal(matches.find((m) => m.matches)?.index ?? -1, decision.ruleIndex);
      assert.deepEqual(decision, policy.decide(target, OFFICE));
    }
  });
});
