// Wakes the waiters of one process: a sign-in waiting for its push to be answered, a phone's long
// poll waiting for a new request. An answer given on this node wakes its waiters at once; one given
// on another node is found by a single batched look at the store every `recheckMs` while anyone
// waits, never by each waiter polling on its own.
import type { PushRequestStore, PushState } from '../ports.ts';

export interface PushHubOptions {
  store: Pick<PushRequestStore, 'pushRequestStates'>;
  /** How often waiters learn about answers given on other nodes; 0 turns the store check off. */
  recheckMs: number;
}

type Settle<T> = (value: T) => void;

export function createPushHub(options: PushHubOptions) {
  const { store, recheckMs } = options;
  const requestWaiters = new Map<string, Set<Settle<PushState>>>();
  const userWaiters = new Map<string, Set<Settle<void>>>();
  let recheckTimer: NodeJS.Timeout | undefined;

  function add<K, T>(map: Map<K, Set<Settle<T>>>, key: K, settle: Settle<T>): void {
    const set = map.get(key) ?? new Set<Settle<T>>();
    set.add(settle);
    map.set(key, set);
  }

  function remove<K, T>(map: Map<K, Set<Settle<T>>>, key: K, settle: Settle<T>): void {
    const set = map.get(key);
    if (!set) return;
    set.delete(settle);
    if (set.size === 0) map.delete(key);
  }

  async function recheck(): Promise<void> {
    const ids = [...requestWaiters.keys()];
    if (ids.length === 0) return;
    const states = await store.pushRequestStates(ids).catch(() => new Map<string, PushState>());
    for (const [id, state] of states) if (state !== 'pending') settled(id, state);
  }

  function scheduleRecheck(): void {
    if (recheckMs <= 0 || recheckTimer || requestWaiters.size === 0) return;
    recheckTimer = setTimeout(async () => {
      await recheck();
      recheckTimer = undefined;
      scheduleRecheck();
    }, recheckMs);
    recheckTimer.unref();
  }

  /** A request left `pending`: wakes everyone waiting on it. */
  function settled(requestId: string, state: PushState): void {
    const set = requestWaiters.get(requestId);
    if (!set) return;
    requestWaiters.delete(requestId);
    for (const settle of set) settle(state);
  }

  /** A new request for the user: wakes the long polls of the user's phones. */
  function announced(userId: string): void {
    const set = userWaiters.get(userId);
    if (!set) return;
    userWaiters.delete(userId);
    for (const settle of set) settle();
  }

  /**
   * Resolves with the request's final state once it is answered, or with `pending` after `timeoutMs`
   * or when `signal` aborts (the client went away).
   */
  function waitForAnswer(requestId: string, timeoutMs: number, signal?: AbortSignal): Promise<PushState> {
    return new Promise((resolve) => {
      if (signal?.aborted || timeoutMs <= 0) return resolve('pending');
      const done = (state: PushState) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        remove(requestWaiters, requestId, done);
        resolve(state);
      };
      const onAbort = () => done('pending');
      const timer = setTimeout(onAbort, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      add(requestWaiters, requestId, done);
      scheduleRecheck();
    });
  }

  /** Resolves when a new request for the user is announced on this node, or after `timeoutMs`. */
  function waitForRequest(userId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || timeoutMs <= 0) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        remove(userWaiters, userId, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      add(userWaiters, userId, done);
    });
  }

  /** Wakes every waiter (as timed out) and stops the store check: for shutdown. */
  function close(): void {
    clearTimeout(recheckTimer);
    recheckTimer = undefined;
    for (const id of [...requestWaiters.keys()]) settled(id, 'pending');
    for (const id of [...userWaiters.keys()]) announced(id);
  }

  return {
    settled,
    announced,
    waitForAnswer,
    waitForRequest,
    close,
    /** How many waiters are held, for metrics and the scale benchmark. */
    size: () => ({ requests: requestWaiters.size, users: userWaiters.size }),
  };
}

export type PushHub = ReturnType<typeof createPushHub>;
