// `npm test`: makes sure the real test peers are installed (installs them when running as root with
// apt-get, otherwise names the command), refuses focused tests, then runs every test file.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Debian packages the integration and e2e tests drive, with the binary that proves each is there. */
const PEERS = [
  { pkg: 'slapd', bin: '/usr/sbin/slapd' },
  { pkg: 'ldap-utils', bin: '/usr/bin/ldapsearch' },
  { pkg: 'oathtool', bin: '/usr/bin/oathtool' },
  { pkg: 'openssl', bin: '/usr/bin/openssl' },
  { pkg: 'chromium', bin: '/usr/bin/chromium' },
  { pkg: 'freeradius-utils', bin: '/usr/bin/radclient' },
];

function ensurePeers(): void {
  const missing = PEERS.filter((p) => !existsSync(p.bin)).map((p) => p.pkg);
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const isRoot = process.getuid?.() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (!isRoot || !hasApt) {
    console.error(
      `The tests need ${missing.join(', ')}. Install them with:\n  sudo apt-get update && sudo ${command}`,
    );
    process.exit(1);
  }
  console.error(`installing test peers: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
}

function testFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(dir, f))
    .sort();
}

/** A focused test (`.only`) silently skips the rest of a file; refuse it like mocha's forbidOnly. */
function refuseFocused(files: string[]): void {
  const focused = files.filter((f) =>
    /\b(?:test|it|describe|suite)\.only\s*\(|\{\s*only:\s*true/.test(readFileSync(f, 'utf8')),
  );
  if (focused.length > 0) {
    console.error(`focused tests are not allowed: ${focused.join(', ')}`);
    process.exit(1);
  }
}

const which = process.argv[2];
const suites =
  which === 'unit'
    ? ['test/unit']
    : which === 'integration'
      ? ['test/integration']
      : which === 'e2e'
        ? ['test/e2e']
        : ['test/unit', 'test/integration', 'test/e2e'];
if (which !== 'unit') ensurePeers();
const files = suites.flatMap(testFiles);
refuseFocused(files);
const result = spawnSync(process.execPath, ['--test', '--test-timeout=120000', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
