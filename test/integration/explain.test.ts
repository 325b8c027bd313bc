// `mfa-gateway explain`: the real command, in a child process, against a throwaway configuration.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashPassword } from '../../src/core/secrets/password-hash.ts';
import { runCli, tempSite } from '../helpers/cli.ts';

let site: ReturnType<typeof tempSite>;

before(async () => {
  const hash = await hashPassword('x', { ln: 10, r: 8, p: 1 });
  site = tempSite({
    usersFile: `users:\n  - { username: dave, passwordHash: "${hash}", groups: [contractors] }\n`,
    extra: `gateway:
  trustedNetworks: [10.0.0.0/8]
  apps:
    - { name: public, match: { pathPrefix: /public }, upstream: 'http://127.0.0.1:8081', policy: bypass }
    - { name: hr, match: { hosts: [hr.example.test], pathPrefix: / }, upstream: 'http://10.1.1.1:80/hr', groups: [staff] }
`,
  });
});
after(() => site.cleanup());

test('explain shows the canonical URL, the rules skipped and the one chosen, and the upstream', async () => {
  const result = await runCli([
    'explain',
    'http://HR.Example.Test./public/../payroll',
    '--config',
    site.config,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /url\s+http:\/\/hr\.example\.test\/payroll/);
  assert.match(result.stdout, /#0 public: skipped/);
  assert.match(result.stdout, /chosen\s+#1 hr/);
  assert.match(result.stdout, /required\s+two_factor/);
  assert.match(result.stdout, /upstream\s+http:\/\/10\.1\.1\.1\/hr\/payroll/);
});

test('explain --ip shows a trusted network lowering the level', async () => {
  const result = await runCli([
    'explain',
    'http://hr.example.test/',
    '--ip',
    '10.2.3.4',
    '--config',
    site.config,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /required\s+one_factor/);
});

test('explain --user says whether the groups restriction lets the user in', async () => {
  const result = await runCli([
    'explain',
    'http://hr.example.test/',
    '--user',
    'dave',
    '--config',
    site.config,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /refused: user 'dave' is neither listed/);
});

test('a URL with no matching rule is explained as denied by default', async () => {
  const result = await runCli(['explain', 'http://other.example.test/x', '--config', site.config]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /required\s+deny/);
});

test('a URL the gateway would refuse says why and exits 1', async () => {
  const result = await runCli(['explain', 'http://hr.example.test/a%2Fb', '--config', site.config]);
  assert.equal(result.code, 1);
  assert.match(result.stdout + result.stderr, /slash|%2F/i);
});
