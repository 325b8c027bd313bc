// The `mfa-gateway` command end to end, in child processes against a real SQLite file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { isMfaError } from '../../src/core/errors.ts';
import { hashPassword } from '../../src/core/secrets/password-hash.ts';
import { buildServices } from '../../src/main.ts';
import { CLI, freePort, runCli, tempSite } from '../helpers/cli.ts';

const FAST = { ln: 10, r: 8, p: 1 };

async function usersFile(): Promise<string> {
  return `users:
  - username: alice
    passwordHash: "${await hashPassword('alice-pw', FAST)}"
    displayName: Alice Example
    email: alice@example.test
    phones: ["+15550100001"]
    groups: [staff]
  - username: bob
    passwordHash: "${await hashPassword('bob-pw', FAST)}"
`;
}

describe('mfa-gateway CLI', () => {
  let site: ReturnType<typeof tempSite>;
  before(async () => {
    site = tempSite({ usersFile: await usersFile() });
  });
  after(() => site.cleanup());

  test('check-config prints ok for a good file', async () => {
    const result = await runCli(['check-config', '--config', site.config]);
    assert.equal(result.stdout.trim(), 'ok');
    assert.equal(result.code, 0);
  });

  test('check-config lists every problem with its key path and exits non-zero', async () => {
    const bad = tempSite({ extra: 'auth:\n  totp:\n    digits: 9\n  nonsense: 1\n' });
    try {
      const result = await runCli(['check-config'], { env: { MFA_GATEWAY_CONFIG: bad.config } });
      assert.equal(result.code, 78);
      assert.match(result.stderr, /auth\.totp\.digits: must be one of '6', '7', '8'/);
      assert.match(result.stderr, /auth\.nonsense: is not a known option/);
      assert.match(result.stderr, /2 problem\(s\)/);
    } finally {
      bad.cleanup();
    }
  });

  test('without a configuration the command says how to give one', async () => {
    const result = await runCli(['users', 'list'], { env: { MFA_GATEWAY_CONFIG: '' } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--config FILE or set MFA_GATEWAY_CONFIG/);
  });

  test('import, list, show, add, totp, disable, enable and reset work and are audited', async () => {
    const c = ['--config', site.config];
    const imported = await runCli(['import', ...c]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /added 2, updated 0, unchanged 0, disabled 0/);
    assert.match(
      (await runCli(['import', ...c])).stdout,
      /added 0, updated 0, unchanged 2, disabled 0/,
      'idempotent',
    );

    const list = await runCli(['users', 'list', ...c]);
    assert.match(list.stdout, /alice\s+enabled\s+-\s+directory\s+Alice Example/);
    assert.match(list.stdout, /2 user\(s\)/);

    const added = await runCli(['users', 'add', 'carol', '--email', 'carol@example.test', '--totp', ...c]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /otpauth:\/\/totp\/mfa-gateway:carol\?secret=[A-Z2-7]{32}/);
    assert.equal((await runCli(['users', 'add', 'carol', ...c])).code, 1, 'a duplicate is refused');
    assert.match((await runCli(['users', 'add', 'bad name', ...c])).stderr, /\(username\)/);

    assert.match((await runCli(['users', 'totp', 'alice', ...c])).stdout, /secret: [A-Z2-7]{32}/);
    assert.match(
      (await runCli(['users', 'show', 'alice', ...c])).stdout,
      /default method: totp[\s\S]*factors:\s+1/,
    );
    assert.match((await runCli(['users', 'disable', 'alice', ...c])).stdout, /alice is disabled/);
    assert.match((await runCli(['users', 'enable', 'alice', ...c])).stdout, /alice is enabled/);
    assert.match((await runCli(['users', 'reset', 'alice', ...c])).stdout, /removed 1 factor/);
    const missing = await runCli(['users', 'show', 'nobody', ...c]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such user.*\[user\.not_found\]/);

    const audit = await runCli(['audit', '--user', 'alice', '--json', ...c]);
    const types = audit.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).type);
    assert.deepEqual(types, [
      'enrollment.totp_added',
      'admin.user_disable',
      'admin.user_enable',
      'admin.user_reset',
    ]);
    assert.match(
      (await runCli(['audit', '--type', 'directory.import', ...c])).stdout,
      /directory\.import\s+success\s+cli/,
    );
  });

  test('hash-password reads standard input and prints a hash the users file accepts', async () => {
    const result = await runCli(['users', 'hash-password'], { input: 'correct horse\n' });
    assert.equal(result.code, 0);
    assert.match(result.stdout.trim(), /^\$scrypt\$ln=15,r=8,p=1\$[^$]+\$[^$]+$/);
    assert.equal(
      (await runCli(['users', 'hash-password'], { input: '' })).code,
      2,
      'an empty password is refused',
    );
  });

  test('secrets generate prints 32 random bytes', async () => {
    const a = await runCli(['secrets', 'generate']);
    const b = await runCli(['secrets', 'generate']);
    assert.equal(Buffer.from(a.stdout.trim(), 'base64').length, 32);
    assert.notEqual(a.stdout, b.stdout);
  });

  test('accounts create prints the token once, stores only its hash, and revoke ends it', async () => {
    const c = ['--config', site.config];
    const created = await runCli([
      'accounts',
      'create',
      'crm',
      '--scopes',
      'users:read,auth',
      '--network',
      '10.0.0.0/8',
      ...c,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const token = /token: (mfa_sa_\S+)/.exec(created.stdout)?.[1];
    assert.ok(token, created.stdout);
    assert.match(created.stderr, /shown once/);
    const listed = await runCli(['accounts', 'list', ...c]);
    assert.match(listed.stdout, /crm\s+active\s+users:read,auth\s+10\.0\.0\.0\/8\s+no/);
    assert.ok(!listed.stdout.includes(token));
    const services = await buildServices(loadConfig(site.config));
    try {
      assert.equal((await services.accounts.byToken(token))?.name, 'crm');
      assert.ok(!JSON.stringify(await services.store.findServiceAccountByName('crm')).includes(token));
    } finally {
      await services.close();
    }
    const again = await runCli(['accounts', 'create', 'crm', '--scopes', 'auth', ...c]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /name/);
    assert.equal((await runCli(['accounts', 'revoke', 'crm', ...c])).code, 0);
    const after = await buildServices(loadConfig(site.config));
    try {
      assert.equal(await after.accounts.byToken(token), undefined);
    } finally {
      await after.close();
    }
    assert.match((await runCli(['accounts', 'list', ...c])).stdout, /crm\s+revoked/);
  });

  test('unknown commands and options are usage errors', async () => {
    assert.equal((await runCli(['frobnicate'])).code, 2);
    const result = await runCli(['users', 'list', '--colour', '--config', site.config]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown option '--colour'/);
  });

  test('lockout after N failures, unblock by CLI, all audited', async () => {
    const config = loadConfig(site.config);
    const services = await buildServices(config, { logger: undefined });
    const ctx = { channel: 'web' as const, clientAddress: '192.0.2.7' };
    try {
      for (let i = 0; i < config.regulation.user.maxFailures; i++) {
        await assert.rejects(services.authenticator.startLogin('bob', 'guess', ctx), (e) =>
          isMfaError(e, 'auth.invalid_credentials'),
        );
      }
      await assert.rejects(services.authenticator.startLogin('bob', 'bob-pw', ctx), (e) =>
        isMfaError(e, 'auth.locked'),
      );
    } finally {
      await services.close();
    }
    const shown = await runCli(['users', 'show', 'bob', '--config', site.config]);
    assert.match(shown.stdout, /status:\s+enabled \(locked out\)/);
    const unblock = await runCli(['users', 'unblock', 'bob', '--config', site.config]);
    assert.equal(unblock.code, 0, unblock.stderr);
    assert.match(unblock.stdout, /unblocked bob/);

    const again = await buildServices(config);
    try {
      const outcome = await again.authenticator.startLogin('bob', 'bob-pw', ctx);
      // The password passed; the user has no second factor enrolled yet.
      assert.equal(outcome.kind, 'no_second_factor');
    } finally {
      await again.close();
    }
    const audit = await runCli(['audit', '--user', 'bob', '--json', '--config', site.config]);
    const events = audit.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const failures = events.filter((e) => e.type === 'auth.primary' && e.outcome === 'failure');
    assert.equal(failures.length, config.regulation.user.maxFailures + 1);
    assert.ok(failures.every((e) => e.clientAddress === '192.0.2.7' && e.channel === 'web'));
    assert.equal(events.filter((e) => e.type === 'regulation.lockout').length, 1);
    const unblocked = events.find((e) => e.type === 'admin.user_unblock');
    assert.match(unblocked?.actor ?? '', /^cli:/);
  });
});

describe('mfa-gateway start', () => {
  test('answers /_mfa/health on its loopback port without secrets, and stops on SIGTERM', async () => {
    const port = await freePort();
    const site = tempSite({ port, usersFile: 'users: []\n' });
    const child = spawn(process.execPath, [CLI, 'start', '--config', site.config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    try {
      const deadline = Date.now() + 20_000;
      let body: Record<string, unknown> | undefined;
      let text = '';
      while (!body && Date.now() < deadline) {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/_mfa/health`);
          text = await response.text();
          assert.equal(response.status, 200);
          assert.equal(response.headers.get('cache-control'), 'no-store');
          body = JSON.parse(text);
        } catch (error) {
          if ((error as Error).name === 'AssertionError') throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.ok(body, `no answer; stderr: ${stderr}`);
      assert.deepEqual(body.checks, { store: 'ok', directory: 'ok' });
      assert.equal(body.status, 'ok');
      assert.doesNotMatch(text, /dGVzdC1rZXkt|users\.yaml|mfa\.db/, 'no secret or path in the answer');
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
      site.cleanup();
    }
  });

  test('refuses to start with demo secrets on 0.0.0.0, before binding anything', async () => {
    const port = await freePort();
    const demoKey = 'gOnuCVqhwQ4y2Cdu3t8M9ecKg7Rg2W5rGnMUmLNvUTM=';
    const site = tempSite({ usersFile: 'users: []\n' });
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(
      site.config,
      readFileSync(site.config, 'utf8')
        .replace('127.0.0.1, port: 8080', `0.0.0.0, port: ${port}`)
        .replace(/encryptionKey: .*/, `encryptionKey: ${demoKey}`),
    );
    try {
      const result = await runCli(['start', '--config', site.config], { timeoutMs: 15_000 });
      assert.equal(result.code, 78);
      assert.match(
        result.stderr,
        /store\.encryptionKey: still has the demo value while a listener is not on loopback/,
      );
      assert.equal((await runCli(['check-config', '--config', site.config])).code, 78);
    } finally {
      site.cleanup();
    }
  });
});
