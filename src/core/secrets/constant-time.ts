import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares secrets in constant time, whatever their lengths: both sides are hashed first, so neither
 * the content nor the length of the expected value leaks through timing.
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const digest = (v: string | Uint8Array) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(a), digest(b));
}
