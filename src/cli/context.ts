// What every CLI command shares: option parsing, the config and services it opens, output, and the
// error type whose message is printed without a stack.
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { configPath, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { AdminContext } from '../core/users/user-admin.ts';
import { buildServices, createLogger, type Services } from '../main.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export type OptionSpec = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  readStdin(): Promise<string>;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

export const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;

export function parse<O extends OptionSpec>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function readConfig(flag: string | undefined, io: Io): Readonly<Config> {
  return loadConfig(configPath(flag, io.env), io.env);
}

/** Opens the store and directory for one command and always closes them. */
export async function withServices<T>(
  flag: string | undefined,
  io: Io,
  run: (services: Services) => Promise<T>,
): Promise<T> {
  const config = readConfig(flag, io);
  // Commands print their own results; the JSON log only carries warnings and worse.
  const logger = createLogger({ ...config, log: { level: 'warn' } }, process.stderr as never);
  const services = await buildServices(config, { logger });
  try {
    return await run(services);
  } finally {
    await services.close();
  }
}

export function adminContext(): AdminContext {
  return { actor: `cli:${userInfo().username}`, channel: 'cli', clientAddress: 'local' };
}

/** `2026-11-01`, `2026-11-01T10:00:00Z`, or relative: `30m`, `24h`, `7d`. */
export function parseSince(text: string, now: number): number {
  const relative = /^(\d+)([mhd])$/.exec(text);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return now - Number(relative[1]) * unit;
  }
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new UsageError(`--since: expected a date (2026-11-01) or a duration (30m, 24h, 7d), got '${text}'`);
  return at;
}

export function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}
