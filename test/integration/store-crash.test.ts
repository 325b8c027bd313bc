// Durability: a writer killed with SIGKILL mid-loop loses no row whose commit it had reported,
// and the database file it leaves passes SQLite's integrity check.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openSqliteDatabase } from '../../src/store/sqlite.ts';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/store/write-loop.ts');
const KILL_AFTER_LINES = 200;
const WAIT_MS = 30_000;

interface Reported {
  users: string[];
  audits: string[];
}

/** Runs the writer until it has reported enough commits, then kills it -9; returns what it reported. */
function runAndKill(dbPath: string): Promise<Reported> {
  const child = spawn(process.execPath, [FIXTURE, dbPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const reported: Reported = { users: [], audits: [] };
  let pending = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `writer reported only ${reported.users.length + reported.audits.length} commits: ${stderr}`,
        ),
      );
    }, WAIT_MS);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      // Only complete lines count: a half-written one may be cut by the kill.
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, id] = line.split(' ');
        if (kind === 'user' && id) reported.users.push(id);
        if (kind === 'audit' && id) reported.audits.push(id);
      }
      if (reported.users.length + reported.audits.length >= KILL_AFTER_LINES && child.exitCode === null) {
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer ended before the kill (code ${code}): ${stderr}`));
      else resolve(reported);
    });
  });
}

test('kill -9 during writes loses no committed row', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mfa-store-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dbPath = path.join(dir, 'store.db');

  const reported = await runAndKill(dbPath);
  assert.ok(
    reported.users.length >= KILL_AFTER_LINES / 2 - 1,
    `only ${reported.users.length} users reported`,
  );

  const db = openSqliteDatabase({ path: dbPath, busyTimeoutMs: 5000 });
  t.after(() => db.destroy());
  const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
  assert.deepEqual(integrity.rows, [{ integrity_check: 'ok' }]);

  const userIds = new Set((await db.selectFrom('users').select('id').execute()).map((r) => r.id));
  const missingUsers = reported.users.filter((id) => !userIds.has(id));
  assert.deepEqual(missingUsers, [], 'every reported user is present');

  const markers = new Set(
    (await db.selectFrom('audit_events').select('reason').where('type', '=', 'test.crash').execute()).map(
      (r) => r.reason,
    ),
  );
  const missingAudits = reported.audits.filter((marker) => !markers.has(marker));
  assert.deepEqual(missingAudits, [], 'every reported audit event is present');
});
