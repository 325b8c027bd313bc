import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { demoSecretProblems, demoSecretValues } from '../../src/config/demo-guard.ts';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.ts';

const KEY = 'ZmFrZS1rZXktZm9yLXRlc3RzLW9ubHktMzItYnl0ZXM=';
const minimal = `
store:
  encryptionKey: ${KEY}
directory:
  type: file
  file:
    path: users.yaml
`;

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): Array<{ path: string; message: string }> {
  try {
    parseConfig(text, { file: '/etc/mfa/config.yaml', env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected the configuration to be refused');
}

describe('configuration', () => {
  test('a minimal file gets every default and relative paths resolve against its folder', () => {
    const config = parseConfig(minimal, { file: '/etc/mfa/config.yaml', env: {} });
    assert.equal(config.server.listen[0]?.port, 8080);
    assert.equal(config.auth.totp.window, 1);
    assert.equal(config.directory?.file?.path, '/etc/mfa/users.yaml');
    assert.equal(config.store?.sqlite.path, '/etc/mfa/data/mfa-gateway.db');
    assert.deepEqual(config.server.trustedProxies, []);
  });

  test('the loaded configuration is frozen', () => {
    const config = parseConfig(minimal, { file: '/etc/mfa/config.yaml', env: {} });
    assert.ok(Object.isFrozen(config.auth.totp));
    assert.throws(() => {
      (config.regulation.user as { maxFailures: number }).maxFailures = 1000;
    }, TypeError);
  });

  test('a file with several mistakes reports all of them with their key paths', () => {
    const problems = problemsOf(`
server:
  listen:
    - host: 127.0.0.1
      port: 99999
  trustedProxies: [10.0.0.0/99, not-an-ip]
  listeners: []
store:
  encryptionKey: ${KEY}
directory:
  type: ldpa
auth:
  totp:
    digits: 9
regulation:
  user:
    maxFailures: zero
log:
  level: loud
`);
    const paths = problems.map((p) => p.path);
    for (const expected of [
      'server.listen[0].port',
      'server.listeners',
      'directory.type',
      'auth.totp.digits',
      'regulation.user.maxFailures',
      'log.level',
    ]) {
      assert.ok(paths.includes(expected), `${expected} missing from ${JSON.stringify(problems, null, 1)}`);
    }
    const port = problems.find((p) => p.path === 'server.listen[0].port');
    assert.match(port?.message ?? '', /<= 65535.*'99999'/);
    assert.match(
      problems.find((p) => p.path === 'server.listeners')?.message ?? '',
      /renamed to 'server.listen'/,
    );
    assert.match(problems.find((p) => p.path === 'directory.type')?.message ?? '', /one of 'file', 'ldap'/);
  });

  test('semantic mistakes are reported with key paths too', () => {
    const problems = problemsOf(`
server:
  trustedProxies: [10.0.0.0/99, not-an-ip, 192.0.2.1]
store:
  encryptionKey: ${KEY}
directory:
  type: ldap
`);
    assert.deepEqual(
      problems.map((p) => p.path),
      ['directory.ldap', 'server.trustedProxies[0]', 'server.trustedProxies[1]'],
    );
  });

  test('gateway mistakes are all reported with their key paths', () => {
    const problems = problemsOf(`${minimal}
server:
  listen:
    - { host: 127.0.0.1, port: 8443, tls: { certFile: c.pem, keyFile: k.pem }, redirectToHttpsPort: 8443 }
gateway:
  trustedNetworks: [10.0.0.0/33]
  session: { idleTimeoutSeconds: 7200, maxAgeSeconds: 3600 }
  apps:
    - { name: one, match: { hosts: [Intranet.Example.] } }
    - { name: one, upstream: 'http://127.0.0.1:8081', auth: form-intercept, trustedNetworks: [nope] }
`);
    const paths = problems.map((p) => p.path).sort();
    assert.deepEqual(paths, [
      'gateway.apps[0].match.hosts[0]',
      'gateway.apps[0].upstream',
      'gateway.apps[1].formIntercept',
      'gateway.apps[1].name',
      'gateway.apps[1].trustedNetworks[0]',
      'gateway.session.idleTimeoutSeconds',
      'gateway.trustedNetworks[0]',
      'server.listen[0].redirectToHttpsPort',
    ]);
  });

  test('portal mistakes are all reported with their key paths', () => {
    const problems = problemsOf(`${minimal}
portal:
  methods: [totp, sms, push]
  trustedNetworks: [300.1.1.1]
  pin: { minLength: 8, maxLength: 6 }
  userBypass: { defaultSeconds: 600, maxSeconds: 300 }
  mobileApp: { allow: false }
  session: { cookieName: mfa_session }
  securityQuestions:
    count: 3
    answersRequired: 4
    questions:
      - { id: pet, text: { de: 'Haustier?' } }
      - { id: pet, text: { en: 'Pet?' } }
`);
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'portal.methods[1]',
      'portal.methods[2]',
      'portal.pin.minLength',
      'portal.securityQuestions.answersRequired',
      'portal.securityQuestions.count',
      'portal.securityQuestions.questions[0].text',
      'portal.securityQuestions.questions[1].id',
      'portal.session.cookieName',
      'portal.trustedNetworks[0]',
      'portal.userBypass.defaultSeconds',
    ]);
    const shapes = problemsOf(`${minimal}
mobile:
  webPush: { subject: 'ftp://nope' }
notifications:
  webhook: { url: 'not a url', secret: s3cret-from-secrets-generate }
`);
    assert.deepEqual(shapes.map((p) => p.path).sort(), [
      'mobile.webPush.subject',
      'notifications.webhook.url',
    ]);
    const keys = problemsOf(`${minimal}
mobile:
  webPush: { enabled: true }
`);
    assert.deepEqual(keys.map((p) => p.path).sort(), [
      'mobile.webPush.privateKey',
      'mobile.webPush.publicKey',
    ]);
    const permission = problemsOf(`${minimal}
portal:
  admins:
    - { group: helpdesk, permissions: [users:read, everything] }
`);
    assert.deepEqual(
      permission.map((p) => p.path),
      ['portal.admins[0].permissions[1]'],
    );
  });

  test('an app rule no canonical request could match is a configuration error', () => {
    const problems = problemsOf(`${minimal}
gateway:
  apps:
    - { name: odd, match: { pathPrefix: '/a/../b' }, upstream: 'http://127.0.0.1:8081' }
`);
    assert.equal(problems[0]?.path, 'gateway.apps');
    assert.match(problems[0]?.message ?? '', /odd/);
  });

  test('secrets come from env: and file: references, and a missing one names its key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfa-config-'));
    writeFileSync(join(dir, 'bind.secret'), 's3cret-from-file\n');
    writeFileSync(join(dir, 'users.yaml'), 'users: []\n');
    const text = `
store:
  encryptionKey: env:MFA_KEY
directory:
  type: ldap
  ldap:
    servers: [ldap://127.0.0.1:389]
    bindDn: cn=svc
    bindPassword: file:bind.secret
    baseDn: dc=example,dc=test
`;
    writeFileSync(join(dir, 'config.yaml'), text);
    const config = loadConfig(join(dir, 'config.yaml'), { MFA_KEY: KEY });
    assert.equal(config.store?.encryptionKey, KEY);
    assert.equal(config.directory?.ldap?.bindPassword, 's3cret-from-file');
    const problems = problemsOf(text.replace('file:bind.secret', 'file:/nonexistent/secret'));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['store.encryptionKey', 'directory.ldap.bindPassword'],
    );
    assert.match(problems[0]?.message ?? '', /MFA_KEY, which is not set/);
  });

  test('a secret value never appears in an error message', () => {
    const problems = problemsOf(`
store:
  encryptionKey: 12345
directory:
  type: file
  file: { path: u.yaml }
`);
    assert.equal(problems[0]?.path, 'store.encryptionKey');
    assert.doesNotMatch(problems[0]?.message ?? '', /12345/);
  });

  test('YAML syntax errors and duplicate keys are refused', () => {
    assert.equal(problemsOf('server: [unclosed')[0]?.path, '(yaml)');
    assert.equal(problemsOf(`${minimal}\nstore: {}\n`)[0]?.path, '(yaml)');
  });

  test('demo secrets on 0.0.0.0 are refused', () => {
    const demo = loadConfig(new URL('../../config/demo.yaml', import.meta.url).pathname, {});
    assert.deepEqual(demoSecretProblems(demo), [], 'the demo itself is on loopback');
    const exposed = structuredClone(demo) as typeof demo;
    (exposed.server.listen as Array<{ host: string; port: number }>)[0] = { host: '0.0.0.0', port: 8080 };
    const problems = demoSecretProblems(exposed);
    assert.deepEqual(
      problems.map((p) => p.path),
      ['store.encryptionKey', 'radius.clients[0].secret', 'radius.clients[1].secret'],
    );
    assert.match(problems[0]?.message ?? '', /server\.listen\[0\]\.host = 0\.0\.0\.0/);
  });

  test('demo RADIUS secrets on a RADIUS listener off loopback are refused', () => {
    const demo = loadConfig(new URL('../../config/demo.yaml', import.meta.url).pathname, {});
    const exposed = structuredClone(demo) as typeof demo;
    (exposed.radius.listen as Array<{ host: string }>)[0] = { ...exposed.radius.listen[0], host: '::' };
    const problems = demoSecretProblems(exposed);
    assert.ok(problems.some((p) => p.path === 'radius.clients[0].secret'));
    assert.match(problems[0]?.message ?? '', /radius\.listen\[0\]\.host = ::/);
  });

  test('RADIUS mistakes are all reported with their key paths', () => {
    const problems = problemsOf(`${minimal}
radius:
  listen:
    - { host: 127.0.0.1, authPort: 1812, accountingPort: 1812 }
  clients:
    - name: vpn
      address: 10.0.0.0/40
      secret: a-long-enough-secret-0001
      mode: auto
      append: { delimiter: '' }
      challenge: { replyMessage: '${'x'.repeat(254)}' }
    - name: vpn
      address: 10.0.0.9
      secret: a-long-enough-secret-0002
      mode: challenge
      replyAttributes:
        - { attribute: No-Such-Attribute, value: 1 }
        - { attribute: Session-Timeout, value: forever }
        - { attribute: Framed-IP-Address, value: 10.0.0.256 }
    - { name: nas3, address: 10.0.0.9, secret: a-long-enough-secret-0003, mode: append }
`);
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'radius.clients[0].address',
      'radius.clients[0].append.delimiter',
      'radius.clients[0].challenge.replyMessage',
      'radius.clients[1].name',
      'radius.clients[1].replyAttributes[0].attribute',
      'radius.clients[1].replyAttributes[1].value',
      'radius.clients[1].replyAttributes[2].value',
      'radius.clients[2].address',
      'radius.listen[0]',
    ]);
  });

  test('a RADIUS secret shorter than 16 characters is refused once resolved, and never shown', () => {
    const problems = problemsOf(
      `${minimal}
radius:
  clients:
    - { name: vpn, address: 10.0.0.1, secret: 'env:VPN_SECRET', mode: challenge }
`,
      { VPN_SECRET: 'tiny-secret' },
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      ['radius.clients[0].secret'],
    );
    assert.doesNotMatch(problems[0]?.message ?? '', /tiny-secret/);
  });

  test('there is no default RADIUS secret: a client without one is refused', () => {
    const problems = problemsOf(`${minimal}
radius:
  clients:
    - { name: vpn, address: 10.0.0.1, mode: challenge }
`);
    assert.deepEqual(
      problems.map((p) => p.path),
      ['radius.clients[0].secret'],
    );
  });

  test('the demo secret list holds the demo file inline secrets', () => {
    assert.ok(demoSecretValues().size >= 1);
  });
});

describe('roles: internal and edge', () => {
  const edge = (lines: string) => `role: edge
edge:
${lines}
`;

  test('an edge node needs only the SDK URL, the pinned CA, its certificate and a session key; paths resolve', () => {
    const config = parseConfig(
      edge(`  sdkUrl: https://mfa-internal.corp.example:8443/sdk/v1
  caFile: pki/ca.pem
  clientCertFile: pki/edge.pem
  clientKeyFile: pki/edge.key
  sessionKey: ${KEY}`),
      { file: '/etc/mfa/edge.yaml', env: {} },
    );
    assert.equal(config.role, 'edge');
    assert.equal(config.store, undefined);
    assert.equal(config.directory, undefined);
    assert.equal(config.edge?.caFile, '/etc/mfa/pki/ca.pem');
    assert.equal(config.edge?.clientKeyFile, '/etc/mfa/pki/edge.key');
    assert.equal(config.edge?.timeoutSeconds, 15);
  });

  test('an edge node with a store, a directory or RADIUS clients is refused, every problem at once', () => {
    const problems = problemsOf(`${minimal}role: edge
edge:
  sdkUrl: http://mfa-internal.corp.example/sdk/v1
  clientCertFile: edge.pem
  sessionKey: ${KEY}
radius:
  clients: [{ name: vpn, address: 192.0.2.1, secret: a-long-enough-shared-secret, mode: challenge }]
`);
    const paths = problems.map((p) => p.path);
    for (const path of [
      'store',
      'directory',
      'radius.clients',
      'edge.sdkUrl',
      'edge.clientKeyFile',
      'edge.clientCertFile',
    ])
      assert.ok(paths.includes(path), `${path} in ${JSON.stringify(problems)}`);
    assert.match(problems.find((p) => p.path === 'edge.sdkUrl')?.message ?? '', /https/);
  });

  test('an https SDK URL needs the CA to pin, and the edge must prove itself somehow', () => {
    const problems = problemsOf(
      edge(`  sdkUrl: https://mfa-internal.corp.example/sdk/v1\n  sessionKey: ${KEY}`),
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      ['edge.caFile', 'edge'],
    );
  });

  test('the edge example in config/ is valid as shipped', () => {
    const file = new URL('../../config/edge.example.yaml', import.meta.url).pathname;
    const config = loadConfig(file, { MFA_EDGE_SESSION_KEY: KEY });
    assert.equal(config.role, 'edge');
    assert.equal(config.edge?.caFile, '/etc/mfa-gateway/pki/internal-ca.pem');
  });

  test('an internal node needs the store and the directory, and no edge section', () => {
    const problems = problemsOf(
      `edge:\n  sdkUrl: http://127.0.0.1:1/sdk/v1\n  token: t\n  sessionKey: ${KEY}\n`,
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      ['store', 'directory', 'edge'],
    );
  });
});
