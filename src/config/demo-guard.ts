// The demo ships with known secrets. They are harmless on loopback and fatal anywhere else, so the
// service refuses to start when a listener leaves loopback while any secret still has a demo value.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse } from 'yaml';
import type { Config } from './schema.ts';
import { secretSlots } from './secrets.ts';
import type { ConfigProblem } from './validate.ts';
import { toKeyPath } from './validate.ts';

export const DEMO_CONFIG_URL = new URL('../../config/demo.yaml', import.meta.url);

/** The inline secret values written in the demo configuration file. */
export function demoSecretValues(file: URL | string = DEMO_CONFIG_URL): Set<string> {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch {
    return new Set();
  }
  const values = secretSlots(raw)
    .map((slot) => slot.value)
    .filter((value) => !value.startsWith('env:') && !value.startsWith('file:'));
  return new Set(values);
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Listeners of every kind the config has: HTTP, and RADIUS when it has clients. */
export function listenerHosts(config: Config): Array<{ path: string; host: string }> {
  const http = config.server.listen.map((listener, index) => ({
    path: `server.listen[${index}].host`,
    host: listener.host,
  }));
  if (config.radius.clients.length === 0) return http;
  return [
    ...http,
    ...config.radius.listen.map((listener, index) => ({
      path: `radius.listen[${index}].host`,
      host: listener.host,
    })),
  ];
}

export function demoSecretProblems(
  config: Config,
  demoValues: Set<string> = demoSecretValues(),
): ConfigProblem[] {
  const exposed = listenerHosts(config).filter((listener) => !isLoopback(listener.host));
  if (exposed.length === 0) return [];
  const where = exposed.map((l) => `${l.path} = ${l.host}`).join(', ');
  return secretSlots(config)
    .filter((slot) => demoValues.has(slot.value))
    .map((slot) => ({
      path: toKeyPath(slot.pointer),
      message: `still has the demo value while a listener is not on loopback (${where}); generate a new one with 'mfa-gateway secrets generate'`,
    }));
}
