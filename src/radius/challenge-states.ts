// The State of an Access-Challenge: random bytes that stand for one open sign-in, bound to the
// client and user that opened it, used once and only for a short time. The second request must
// come back to this node (RADIUS clients answer a challenge to the server that sent it).
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/ports.ts';

export interface OpenChallenge {
  client: string;
  username: string;
  challengeId: string;
  /** Directory groups seen at the password step, for the reply attributes of the Accept. */
  groups: readonly string[];
  /** Whether a code is accepted (false for push users when the client has no OATH fallback). */
  codeAllowed: boolean;
  /** Whether "push" can be typed instead of the code. */
  pushAllowed: boolean;
  /** The re-authentication cache key of the credentials, remembered once the code is right. */
  reauthId: string;
}

export const STATE_BYTES = 24;

/** Bounded: beyond `max` open challenges the oldest are forgotten (their users start again). */
export function createChallengeStates(options: { max: number; clock: Clock }) {
  const open = new LRUCache<string, { challenge: OpenChallenge; expiresAt: number }>({ max: options.max });
  return {
    issue(challenge: OpenChallenge, ttlMs: number): Buffer {
      const state = randomBytes(STATE_BYTES);
      open.set(state.toString('base64'), { challenge, expiresAt: options.clock.now() + ttlMs });
      return state;
    },
    /** The challenge for a State, removed on the way: a State never works twice. */
    take(state: Buffer): OpenChallenge | undefined {
      if (state.length !== STATE_BYTES) return undefined;
      const key = state.toString('base64');
      const found = open.get(key);
      open.delete(key);
      return found && found.expiresAt > options.clock.now() ? found.challenge : undefined;
    },
  };
}

export type ChallengeStates = ReturnType<typeof createChallengeStates>;
