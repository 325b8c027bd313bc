// RFC 5080 §2.2.2: a NAS retransmits a request it has no answer to, with the same identifier and
// authenticator. While the first copy is being worked on, copies are dropped (one push, not one
// per retransmit); once answered, the same bytes are sent again for a while.
import { LRUCache } from 'lru-cache';

type Seen = { kind: 'pending' } | { kind: 'answered'; response: Buffer } | { kind: 'dropped' };

export interface DuplicateCache {
  /** 'new' when this request has not been seen; otherwise what happened to it. */
  begin(key: string, pendingMs: number): 'new' | Seen;
  answered(key: string, response: Buffer): void;
  /** Given up without an answer (superseded, or the server is stopping): copies stay unanswered. */
  dropped(key: string): void;
  readonly size: number;
}

export function requestKey(
  client: string,
  address: string,
  port: number,
  identifier: number,
  authenticator: Buffer,
): string {
  return `${client}\0${address}\0${port}\0${identifier}\0${authenticator.toString('base64')}`;
}

export function createDuplicateCache(options: { answeredMs: number; max: number }): DuplicateCache {
  const cache = new LRUCache<string, Seen>({ max: options.max, ttl: options.answeredMs });
  return {
    begin(key, pendingMs) {
      const seen = cache.get(key);
      if (seen) return seen;
      cache.set(key, { kind: 'pending' }, { ttl: pendingMs + options.answeredMs });
      return 'new';
    },
    answered(key, response) {
      cache.set(key, { kind: 'answered', response });
    },
    dropped(key) {
      cache.set(key, { kind: 'dropped' });
    },
    get size() {
      return cache.size;
    },
  };
}
