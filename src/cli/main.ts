// The `mfa-gateway` command: dispatches to the subcommands, prints errors without stacks, and
// returns a non-zero exit code on any failure.
import { ConfigError, formatProblems } from '../config/load.ts';
import { isMfaError } from '../core/errors.ts';
import { startService } from '../main.ts';
import { ACCOUNTS_HELP, accountsCommand } from './accounts-command.ts';
import {
  AUDIT_HELP,
  auditCommand,
  IMPORT_HELP,
  importCommand,
  SECRETS_HELP,
  secretsCommand,
} from './admin-commands.ts';
import { CONFIG_OPTION, type Io, parse, processIo, readConfig, UsageError } from './context.ts';
import { EXPLAIN_HELP, explainCommand } from './explain-command.ts';
import { USERS_HELP, usersCommand } from './users-command.ts';

const HELP = `Usage: mfa-gateway <command> [options]

Commands:
  start          run the service (the HTTP listeners, and RADIUS when clients are configured)
  check-config   validate the configuration; prints "ok" or every problem with its key path
  users          list, show, add, disable, enable, reset, unblock users; hash-password
  import         import users from the directory
  accounts       SDK service accounts: create (prints a token once), list, revoke
  audit          list audit events
  explain        which gateway rule applies to a URL, and why
  secrets        generate a random secret

Every command takes --config FILE (or MFA_GATEWAY_CONFIG) and --help.`;

async function checkConfig(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, CONFIG_OPTION);
  if (values.help) {
    io.out('Usage: mfa-gateway check-config [--config FILE]');
    return 0;
  }
  const config = readConfig(values.config, io);
  const { demoSecretProblems } = await import('../config/demo-guard.ts');
  const problems = demoSecretProblems(config);
  if (problems.length > 0) throw new ConfigError('(config)', problems);
  io.out('ok');
  return 0;
}

async function start(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, CONFIG_OPTION);
  if (values.help) {
    io.out('Usage: mfa-gateway start [--config FILE]');
    return 0;
  }
  const service = await startService(readConfig(values.config, io));
  io.err(`mfa-gateway listening on ${service.addresses.join(', ')}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await service.stop();
  return 0;
}

const COMMANDS: Record<string, { run: (args: string[], io: Io) => Promise<number>; help?: string }> = {
  start: { run: start },
  'check-config': { run: checkConfig },
  users: { run: usersCommand, help: USERS_HELP },
  import: { run: importCommand, help: IMPORT_HELP },
  audit: { run: auditCommand, help: AUDIT_HELP },
  secrets: { run: secretsCommand, help: SECRETS_HELP },
  accounts: { run: accountsCommand, help: ACCOUNTS_HELP },
  explain: { run: explainCommand, help: EXPLAIN_HELP },
};

export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`mfa-gateway: unknown command '${name}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: Io): number {
  if (error instanceof ConfigError) {
    io.err(
      `${error.file}: the configuration has ${error.problems.length} problem(s):\n${formatProblems(error.problems)}`,
    );
    return 78;
  }
  if (error instanceof UsageError) {
    io.err(`mfa-gateway: ${error.message}`);
    return 2;
  }
  if (isMfaError(error)) {
    io.err(`mfa-gateway: ${error.message}${error.field ? ` (${error.field})` : ''} [${error.code}]`);
    return 1;
  }
  io.err(`mfa-gateway: ${(error as Error)?.message ?? String(error)}`);
  return 1;
}

if (import.meta.main) {
  process.exitCode = await runCli(process.argv.slice(2));
}
