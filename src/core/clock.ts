import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from './ports.ts';

export const systemClock: Clock = {
  now: () => Date.now(),
  // Rounded up: timers truncate fractions and may fire up to a millisecond early, and a floor
  // (the password step's equal timing) must never be undercut.
  sleep: (ms) => (ms > 0 ? delay(Math.ceil(ms) + 1) : Promise.resolve()),
};

/** A clock that stands still until told to move; `sleep` advances it, so tests never wait. */
export interface FixedClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
  /** Total time "slept", to check timing equalisation without waiting for it. */
  readonly slept: number;
}

export function createFixedClock(start: number): FixedClock {
  let current = start;
  let slept = 0;
  return {
    now: () => current,
    sleep: async (ms) => {
      if (ms > 0) {
        current += ms;
        slept += ms;
      }
    },
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
    get slept() {
      return slept;
    },
  };
}
