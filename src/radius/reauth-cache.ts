// NetScaler re-sends the cached credentials of a session (on reconnect, on a new tab), and asking
// for a second factor each time trains users to approve blindly. A client may allow the same user,
// password and client within a few seconds without a new second factor. Only a keyed hash of the
// credentials is kept, with a key that lives and dies with the process.
import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/ports.ts';

export function createReauthCache(options: { max: number; clock: Clock }) {
  const key = randomBytes(32);
  const { clock } = options;
  /** Expiry instants by credentials key. */
  const remembered = new LRUCache<string, number>({ max: options.max });
  return {
    /** The cache key for these credentials; computed at the password step, used after the second factor. */
    idFor(client: string, username: string, password: string): string {
      return createHmac('sha256', key).update(`${client}\0${username}\0${password}`).digest('base64');
    },
    remember(id: string, seconds: number): void {
      if (seconds > 0) remembered.set(id, clock.now() + seconds * 1000);
    },
    recalls(id: string): boolean {
      return (remembered.get(id) ?? 0) > clock.now();
    },
  };
}

export type ReauthCache = ReturnType<typeof createReauthCache>;
