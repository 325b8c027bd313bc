// Form interception holds the app's login post while the second factor runs: bounded in count and
// size, short lived, and sealed with a key that exists only in this process's memory, so a held
// password is never readable from a heap dump of the cache or from disk.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface HeldRequest {
  method: string;
  /** Canonical path and query on the app. */
  url: string;
  appIndex: number;
  contentType: string | undefined;
  body: Buffer;
  username: string;
}

interface Sealed {
  iv: Buffer;
  tag: Buffer;
  data: Buffer;
  meta: Omit<HeldRequest, 'body'>;
}

export function createHeldRequests(options: { max: number; ttlMs: number }) {
  const key = randomBytes(32);
  const held = new LRUCache<string, Sealed>({ max: options.max, ttl: options.ttlMs });

  return {
    hold(request: HeldRequest): string {
      const id = randomBytes(18).toString('base64url');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(id));
      const data = Buffer.concat([cipher.update(request.body), cipher.final()]);
      const { body: _body, ...meta } = request;
      held.set(id, { iv, tag: cipher.getAuthTag(), data, meta });
      return id;
    },

    /** Takes the request out: a held login is replayed at most once. */
    take(id: string): HeldRequest | undefined {
      const sealed = held.get(id);
      if (!sealed) return undefined;
      held.delete(id);
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(sealed.tag);
      const body = Buffer.concat([decipher.update(sealed.data), decipher.final()]);
      return { ...sealed.meta, body };
    },

    drop(id: string): void {
      held.delete(id);
    },
  };
}

export type HeldRequests = ReturnType<typeof createHeldRequests>;
