// Runs the real `mfa-gateway` command in a child process, and makes throwaway configurations.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = new URL('../../bin/mfa-gateway.js', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export const TEST_KEY = 'dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktMzJieXQ=';

/** A temporary folder with a config and a users file (alice/alice-pw, bob/bob-pw); `cleanup` removes it. */
export function tempSite(options: { port?: number; extra?: string; usersFile?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mfa-site-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `server:
  listen: [{ host: 127.0.0.1, port: ${options.port ?? 8080} }]
store:
  sqlite: { path: data/mfa.db }
  encryptionKey: ${TEST_KEY}
directory:
  type: file
  file: { path: users.yaml }
log:
  level: silent
${options.extra ?? ''}`,
  );
  if (options.usersFile) writeFileSync(join(dir, 'users.yaml'), options.usersFile);
  return { dir, config, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
