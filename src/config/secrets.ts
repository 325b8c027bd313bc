// Secrets in the configuration: inline values or `env:NAME` / `file:PATH` references, found through
// the schema's `x-secret` mark so that no second list of secret keys can drift from the schema.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Config } from './schema.ts';
import type { ConfigProblem } from './validate.ts';
import { schemaAt, toKeyPath } from './validate.ts';

export interface SecretSlot {
  /** JSON pointer, e.g. /store/encryptionKey */
  pointer: string;
  value: string;
  set(value: string): void;
}

/** Every secret-marked string in a config object, wherever it sits (including inside lists). */
export function secretSlots(config: unknown): SecretSlot[] {
  const slots: SecretSlot[] = [];
  const walk = (node: unknown, pointer: string) => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, child] of Object.entries(node)) {
      const childPointer = `${pointer}/${key}`;
      if (
        typeof child === 'string' &&
        (schemaAt(childPointer) as Record<string, unknown> | undefined)?.['x-secret']
      ) {
        const parent = node as Record<string, unknown>;
        slots.push({ pointer: childPointer, value: child, set: (v) => (parent[key] = v) });
      } else {
        walk(child, childPointer);
      }
    }
  };
  walk(config, '');
  return slots;
}

export function resolveSecrets(
  config: Config,
  options: { env: NodeJS.ProcessEnv; base: string },
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const slot of secretSlots(config)) {
    const path = toKeyPath(slot.pointer);
    try {
      const value = resolveSecret(slot.value, options);
      if (value.length === 0) throw new Error('resolves to an empty value');
      slot.set(value);
    } catch (error) {
      problems.push({ path, message: (error as Error).message });
    }
  }
  return problems;
}

export function resolveSecret(reference: string, options: { env: NodeJS.ProcessEnv; base: string }): string {
  if (reference.startsWith('env:')) {
    const name = reference.slice(4);
    const value = options.env[name];
    if (value === undefined) throw new Error(`refers to the environment variable ${name}, which is not set`);
    return value;
  }
  if (reference.startsWith('file:')) {
    const path = reference.slice(5);
    const full = isAbsolute(path) ? path : resolve(options.base, path);
    try {
      return readFileSync(full, 'utf8').trim();
    } catch (error) {
      throw new Error(
        `refers to the file ${full}, which cannot be read (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  }
  return reference;
}
