import { randomBytes, randomInt } from 'node:crypto';
import type { Random } from './ports.ts';

export const systemRandom: Random = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
  int: (max) => randomInt(max),
};

/**
 * A time-ordered identifier (UUID version 7 layout): sorts by creation time in every database,
 * so audit events and rows list in order without a dialect-specific auto-increment column.
 */
export function timeOrderedId(now: number, random: Random): string {
  const bytes = random.bytes(16);
  let ms = BigInt(now);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
