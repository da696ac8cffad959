import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { KeyLastUsage } from '../../src/core/kms/key-last-usage.js';
import { KeyLastUsageRecord, KeyRecord, MetadataStore } from '../../src/store/metadata/types.js';

/** The store calls KeyLastUsage makes, recorded; `failNext` makes the next write fail. */
function fakeStore() {
  const writes: KeyLastUsageRecord[][] = [];
  const settings = new Map<string, string>();
  const state = { failNext: false };
  const store = {
    recordKeyLastUsage: async (usages: readonly KeyLastUsageRecord[]) => {
      if (state.failNext) {
        state.failNext = false;
        throw new Error('database unreachable');
      }
      writes.push([...usages]);
    },
    getKeyLastUsage: async (keyId: string) => writes.flat().filter((u) => u.keyId === keyId).sort((a, b) => b.usedAt - a.usedAt)[0],
    initSetting: async (name: string, value: string) => (settings.has(name) ? settings.get(name)! : (settings.set(name, value), value)),
  } as unknown as MetadataStore;
  return { store, writes, state };
}

const use = (keyId: string, usedAt: number, operation = 'Decrypt'): KeyLastUsageRecord => ({ keyId, operation, usedAt, cloudTrailEventId: `e${usedAt}`, requestId: `r${usedAt}` });
const key = (keyId: string, createdAt: number) => ({ keyId, createdAt }) as KeyRecord;

describe('KeyLastUsage: in-memory last uses flushed in batches', () => {
  it('keeps one (the latest) use per key between flushes, writes them in one call, and nothing when there is nothing new', async () => {
    const { store, writes } = fakeStore();
    const t = new KeyLastUsage(store, new ManualClock());
    for (let i = 0; i < 1000; i++) t.note(use(i % 2 ? 'a' : 'b', i));
    t.note(use('a', 5)); // an older use noted late does not replace the later one
    await t.flush();
    assert.deepEqual(writes, [[use('b', 998), use('a', 999)]]);
    await t.flush();
    assert.equal(writes.length, 1);
  });

  it('a failed flush keeps its uses for the next one, behind any later use noted meanwhile', async () => {
    const { store, writes, state } = fakeStore();
    const t = new KeyLastUsage(store, new ManualClock());
    t.note(use('a', 10));
    t.note(use('b', 10));
    state.failNext = true;
    await assert.rejects(t.flush(), /database unreachable/);
    t.note(use('a', 20, 'Sign'));
    await t.flush();
    assert.deepEqual(writes, [[use('a', 20, 'Sign'), use('b', 10)]]);
  });

  it('get answers the later of the stored use and this server\'s unwritten one; tracking starts at the first start or the key\'s creation', async () => {
    const { store } = fakeStore();
    const clock = new ManualClock();
    const t = new KeyLastUsage(store, clock);
    // ManualClock runs with real time (plus its offset): the tracking start is read between these two instants.
    const beforeStart = clock.now();
    await t.start(60_000);
    const started = clock.now();
    clock.advance(1_000);
    // A second server starting later keeps the deployment's first tracking start.
    const second = new KeyLastUsage(store, clock);
    await second.start(60_000);
    await second.stop();
    t.note(use('k', 100));
    await t.flush();
    t.note(use('k', 200, 'Sign'));
    const got = await t.get(key('k', 0));
    assert.deepEqual(got.usage, use('k', 200, 'Sign'));
    assert.ok(got.trackingStartDate >= beforeStart && got.trackingStartDate <= started, `tracking started at the first server's start, not the second's (${got.trackingStartDate})`);
    assert.deepEqual(await t.get(key('new', started + 5_000)), { trackingStartDate: started + 5_000 });
    await t.stop();
  });
});
