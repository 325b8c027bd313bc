// Directory import and the password step against a real slapd, through the CLI and the core.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { isMfaError, type MfaError } from '../../src/core/errors.ts';
import { buildServices } from '../../src/main.ts';
import { runCli, TEST_KEY, tempSite } from '../helpers/cli.ts';
import { type SlapdHandle, startSlapd, TEST_USERS } from '../helpers/slapd.ts';

function ldapConfig(slapd: SlapdHandle, extra = ''): string {
  return `store:
  sqlite: { path: data/mfa.db }
  encryptionKey: ${TEST_KEY}
directory:
  type: ldap
  ldap:
    servers: ["${slapd.url}"]
    bindDn: "${slapd.serviceDn}"
    bindPassword: "${slapd.servicePassword}"
    baseDn: "ou=Users,${slapd.baseDn}"
    usernameAttribute: sAMAccountName
    userFilter: (objectClass=inetOrgPerson)
    connectTimeoutMs: 2000
    timeoutMs: 4000
log:
  level: silent
${extra}`;
}

function ldapModify(slapd: SlapdHandle, ldif: string): void {
  execFileSync('ldapmodify', ['-x', '-H', slapd.url, '-D', slapd.adminDn, '-w', slapd.adminPassword], {
    input: ldif,
  });
}

describe('import from a real slapd', () => {
  let slapd: SlapdHandle;
  let site: ReturnType<typeof tempSite>;
  before(async () => {
    slapd = await startSlapd();
    site = tempSite();
    writeFileSync(site.config, ldapConfig(slapd));
  });
  after(async () => {
    await slapd?.stop();
    site?.cleanup();
  });

  test('import adds, updates and disables idempotently, and users list shows the imported users', async () => {
    const c = ['--config', site.config];
    const first = await runCli(['import', ...c]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /added 5, updated 0, unchanged 0, disabled 0/);
    assert.match((await runCli(['import', ...c])).stdout, /added 0, updated 0, unchanged 5, disabled 0/);

    const list = await runCli(['users', 'list', ...c]);
    for (const name of Object.keys(TEST_USERS))
      assert.match(list.stdout, new RegExp(`^${name}\\s+enabled\\s+-\\s+directory`, 'm'));
    const aliceBefore = JSON.parse((await runCli(['users', 'show', 'alice', '--json', ...c])).stdout);
    assert.equal(aliceBefore.uniqueId.length, 36, 'objectGUID read as a GUID string');
    assert.deepEqual(aliceBefore.phones, ['+15550100001', '+15550100002']);

    ldapModify(
      slapd,
      `dn: ${TEST_USERS.alice.dn}\nchangetype: modify\nreplace: displayName\ndisplayName: Alice Adams-Smith\n`,
    );
    ldapModify(
      slapd,
      `dn: ${TEST_USERS.bob.dn}\nchangetype: modify\nreplace: sAMAccountName\nsAMAccountName: bbrown\n`,
    );
    ldapModify(slapd, `dn: ${TEST_USERS.dave.dn}\nchangetype: delete\n`);
    const third = await runCli(['import', ...c]);
    assert.match(third.stdout, /added 0, updated 2, unchanged 2, disabled 1/);
    assert.match((await runCli(['import', ...c])).stdout, /added 0, updated 0, unchanged 4, disabled 0/);

    const alice = JSON.parse((await runCli(['users', 'show', 'alice', '--json', ...c])).stdout);
    assert.equal(alice.displayName, 'Alice Adams-Smith');
    assert.equal(alice.id, aliceBefore.id);
    const renamed = JSON.parse((await runCli(['users', 'show', 'bbrown', '--json', ...c])).stdout);
    assert.equal(renamed.displayName, 'Bob Brown', 'a rename keeps the same store user');
    assert.match((await runCli(['users', 'list', '--status', 'disabled', ...c])).stdout, /^dave\s+disabled/m);
  });

  test('import of one group disables the imported users outside it', async () => {
    const result = await runCli(['import', '--group', 'VPN Users', '--config', site.config]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /added 0, updated 0, unchanged 2, disabled 2/);
  });

  test('an import that finds nobody is refused instead of disabling everyone', async () => {
    const result = await runCli(['import', '--filter', '(uid=nobody-at-all)', '--config', site.config]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /refusing to disable/);
  });
});

describe('the password step against a real slapd', () => {
  let slapd: SlapdHandle;
  let site: ReturnType<typeof tempSite>;
  before(async () => {
    slapd = await startSlapd();
    site = tempSite();
    writeFileSync(
      site.config,
      ldapConfig(slapd, 'auth:\n  primaryMinDurationMs: 150\nregulation:\n  enabled: false\n'),
    );
    assert.equal((await runCli(['import', '--config', site.config])).code, 0);
  });
  after(async () => {
    await slapd?.stop();
    site?.cleanup();
  });

  async function timedFailure(run: () => Promise<unknown>): Promise<{ ms: number; error: MfaError }> {
    const started = performance.now();
    try {
      await run();
    } catch (error) {
      assert.ok(isMfaError(error));
      return { ms: performance.now() - started, error };
    }
    assert.fail('expected a failure');
  }

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

  test('unknown user and wrong password are indistinguishable, in answer and in time', async () => {
    const services = await buildServices(loadConfig(site.config));
    const ctx = { channel: 'web' as const, clientAddress: '192.0.2.8' };
    try {
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < 7; i++) {
        const u = await timedFailure(() =>
          services.authenticator.startLogin(`nobody${i}`, 'Alice-pass-1', ctx),
        );
        const w = await timedFailure(() => services.authenticator.startLogin('alice', `wrong-${i}`, ctx));
        assert.equal(u.error.code, w.error.code);
        assert.equal(u.error.publicMessage, w.error.publicMessage);
        unknown.push(u.ms);
        wrong.push(w.ms);
      }
      // Both wait out the same floor (150 ms), far above what the directory takes; the medians stay
      // close. A few milliseconds of slack: the floor is kept by the server's clock, measured here by another.
      assert.ok(
        median(unknown) >= 145 && median(wrong) >= 145,
        `medians ${median(unknown)} / ${median(wrong)}`,
      );
      assert.ok(
        Math.abs(median(unknown) - median(wrong)) < 40,
        `medians ${median(unknown)} vs ${median(wrong)}`,
      );
      const outcome = await services.authenticator.startLogin('alice', TEST_USERS.alice.password, ctx);
      // The password passed; the user has no second factor enrolled yet.
      assert.equal(outcome.kind, 'no_second_factor');
    } finally {
      await services.close();
    }
  });
});
