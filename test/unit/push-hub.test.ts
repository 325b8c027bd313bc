import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { PushState } from '../../src/core/ports.ts';
import { createPushHub } from '../../src/core/push/push-hub.ts';

/** The store as another node sees it: answers land here without this node's hub hearing of them. */
function fakeStore(options: { fail?: boolean } = {}) {
  const states = new Map<string, PushState>();
  const calls: string[][] = [];
  return {
    states,
    calls,
    async pushRequestStates(ids: string[]) {
      calls.push([...ids]);
      if (options.fail) throw new Error('store down');
      return new Map([...states].filter(([id]) => ids.includes(id)));
    },
  };
}

const LONG = 60_000;

describe('push hub', () => {
  it('a waiter wakes with the state its request settled in', async () => {
    const hub = createPushHub({ store: fakeStore(), recheckMs: 0 });
    const first = hub.waitForAnswer('r1', LONG);
    const second = hub.waitForAnswer('r1', LONG);
    const other = hub.waitForAnswer('r2', LONG);
    assert.deepEqual(hub.size(), { requests: 2, users: 0 });
    hub.settled('r1', 'approved');
    assert.deepEqual(await Promise.all([first, second]), ['approved', 'approved']);
    assert.deepEqual(hub.size(), { requests: 1, users: 0 }, "r2's waiter is untouched");
    hub.settled('r2', 'fraud');
    assert.equal(await other, 'fraud');
    assert.deepEqual(hub.size(), { requests: 0, users: 0 });
  });

  it('a waiter that hears nothing times out as pending, and is let go', async () => {
    const hub = createPushHub({ store: fakeStore(), recheckMs: 0 });
    assert.equal(await hub.waitForAnswer('r1', 5), 'pending');
    assert.deepEqual(hub.size(), { requests: 0, users: 0 });
    // A settlement after the timeout finds nobody and does no harm.
    hub.settled('r1', 'approved');
    assert.equal(await hub.waitForAnswer('r1', 0), 'pending', 'no timeout means no wait');
  });

  it('a client that goes away (aborted signal) stops waiting as pending', async () => {
    const hub = createPushHub({ store: fakeStore(), recheckMs: 0 });
    const controller = new AbortController();
    const waiting = hub.waitForAnswer('r1', LONG, controller.signal);
    const polling = hub.waitForRequest('u1', LONG, controller.signal);
    controller.abort();
    assert.equal(await waiting, 'pending');
    await polling;
    assert.deepEqual(hub.size(), { requests: 0, users: 0 });
    // Already aborted: nothing is held at all.
    assert.equal(await hub.waitForAnswer('r2', LONG, controller.signal), 'pending');
    await hub.waitForRequest('u2', LONG, controller.signal);
    assert.deepEqual(hub.size(), { requests: 0, users: 0 });
  });

  it("a phone's long poll wakes when a request is announced for its user only", async () => {
    const hub = createPushHub({ store: fakeStore(), recheckMs: 0 });
    let aliceWoke = false;
    const alice = hub.waitForRequest('alice', LONG).then(() => {
      aliceWoke = true;
    });
    const bob = hub.waitForRequest('bob', LONG);
    hub.announced('bob');
    await bob;
    await delay(1);
    assert.equal(aliceWoke, false, "bob's request does not wake alice's phone");
    assert.deepEqual(hub.size(), { requests: 0, users: 1 });
    hub.announced('alice');
    await alice;
    assert.deepEqual(hub.size(), { requests: 0, users: 0 });
  });

  it('a long poll ends after its timeout', async () => {
    const hub = createPushHub({ store: fakeStore(), recheckMs: 0 });
    await hub.waitForRequest('alice', 5);
    assert.deepEqual(hub.size(), { requests: 0, users: 0 });
  });

  it('close() releases every waiter and stops the store check', async () => {
    const store = fakeStore();
    const hub = createPushHub({ store, recheckMs: 5 });
    const answers = [hub.waitForAnswer('r1', LONG), hub.waitForAnswer('r2', LONG)];
    const polls = [hub.waitForRequest('alice', LONG), hub.waitForRequest('bob', LONG)];
    hub.close();
    assert.deepEqual(await Promise.all(answers), ['pending', 'pending']);
    await Promise.all(polls);
    assert.deepEqual(hub.size(), { requests: 0, users: 0 });
    const calls = store.calls.length;
    await delay(20);
    assert.equal(store.calls.length, calls, 'no store check after close');
  });

  it('an answer given on another node wakes the waiter through one batched store check', async () => {
    const store = fakeStore();
    const hub = createPushHub({ store, recheckMs: 5 });
    const r1 = hub.waitForAnswer('r1', LONG);
    const r2 = hub.waitForAnswer('r2', LONG);
    store.states.set('r1', 'pending');
    store.states.set('r2', 'pending');
    await delay(15);
    assert.ok(store.calls.length > 0, 'the store was checked');
    for (const ids of store.calls) assert.deepEqual(ids.sort(), ['r1', 'r2'], 'one call for all waiters');
    store.states.set('r1', 'denied');
    assert.equal(await r1, 'denied');
    store.states.set('r2', 'approved');
    assert.equal(await r2, 'approved');
    assert.deepEqual(hub.size(), { requests: 0, users: 0 });
    const calls = store.calls.length;
    await delay(20);
    assert.equal(store.calls.length, calls, 'nobody waits, so the store is left alone');
  });

  it('a failing store check does not break the waiters', async () => {
    const store = fakeStore({ fail: true });
    const hub = createPushHub({ store, recheckMs: 2 });
    const waiting = hub.waitForAnswer('r1', 20);
    assert.equal(await waiting, 'pending');
    assert.ok(store.calls.length > 0);
    const again = hub.waitForAnswer('r1', LONG);
    hub.settled('r1', 'approved');
    assert.equal(await again, 'approved');
    assert.deepEqual(hub.size(), { requests: 0, users: 0 });
  });

  it('after many waiters come and go, nothing is held (no leak)', async () => {
    const hub = createPushHub({ store: fakeStore(), recheckMs: 0 });
    const controller = new AbortController();
    const waiters: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      waiters.push(hub.waitForAnswer(`r${i % 10}`, LONG));
      waiters.push(hub.waitForAnswer(`a${i}`, LONG, controller.signal));
      waiters.push(hub.waitForRequest(`u${i % 7}`, LONG));
      waiters.push(hub.waitForAnswer(`t${i}`, 1));
    }
    for (let i = 0; i < 10; i++) hub.settled(`r${i}`, 'approved');
    for (let i = 0; i < 7; i++) hub.announced(`u${i}`);
    controller.abort();
    await Promise.all(waiters);
    assert.deepEqual(hub.size(), { requests: 0, users: 0 });
  });
});
