import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cache } from '../../src/core/cache/cache.js';
import { InProcessInvalidation } from '../../src/core/cache/invalidation.js';

/** A store of named values that counts its reads. */
function backing(values: Record<string, string>) {
  const b = {
    reads: 0,
    values,
    read: (name: string) => async () => {
      b.reads++;
      return b.values[name];
    },
  };
  return b;
}

describe('Cache', () => {
  it('answers repeated reads from memory; misses are not kept unless negative entries are asked for', async () => {
    const store = backing({ a: '1' });
    const cache = new Cache<string>();
    for (let i = 0; i < 3; i++) assert.equal(await cache.load('a', store.read('a')), '1');
    assert.equal(store.reads, 1);
    for (let i = 0; i < 3; i++) assert.equal(await cache.load('x', store.read('x')), undefined);
    assert.equal(store.reads, 4);

    const negative = new Cache<string>({ negative: true });
    for (let i = 0; i < 3; i++) assert.equal(await negative.load('x', store.read('x')), undefined);
    assert.equal(store.reads, 5);
    assert.ok(negative.peek('x'), 'the miss is kept');
    assert.equal(negative.peek('x')?.value, undefined);
  });

  it('a read that raced an invalidation is returned but not cached', async () => {
    const store = backing({ a: 'old' });
    const cache = new Cache<string>();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pending = cache.load('a', async () => {
      const seen = store.values.a; // read before the write commits…
      await gate;
      return seen;
    });
    store.values.a = 'new';
    cache.invalidate('a'); // …the writer's invalidation arrives before the read's answer is used
    release();
    assert.equal(await pending, 'old');
    assert.equal(cache.peek('a'), undefined);
    assert.equal(await cache.load('a', store.read('a')), 'new');
  });

  it('a read that raced an invalidation of another name, or a clear, is not cached either', async () => {
    const cache = new Cache<string>();
    for (const invalidate of [() => cache.invalidate('b'), () => cache.clear()]) {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const pending = cache.load('a', async () => {
        await gate;
        return 'v';
      });
      invalidate();
      release();
      await pending;
      assert.equal(cache.peek('a'), undefined);
    }
  });

  it('an entry expires after the TTL by the injected clock, measured from when its read began', async () => {
    let now = 1_000;
    const store = backing({ a: '1' });
    const cache = new Cache<string>({ ttlMs: 500, now: () => now });
    await cache.load('a', async () => {
      now += 100; // the read itself takes 100 ms
      return store.read('a')();
    });
    now = 1_499;
    assert.equal(await cache.load('a', store.read('a')), '1');
    assert.equal(store.reads, 1);
    now = 1_500;
    store.values.a = '2';
    assert.equal(await cache.load('a', store.read('a')), '2');
    assert.equal(store.reads, 2);
  });

  it('keeps at most `capacity` entries, dropping the least recently used', async () => {
    const store = backing({ a: 'A', b: 'B', c: 'C' });
    const cache = new Cache<string>({ capacity: 2 });
    await cache.load('a', store.read('a'));
    await cache.load('b', store.read('b'));
    await cache.load('a', store.read('a')); // a is now the most recently used
    await cache.load('c', store.read('c'));
    assert.equal(cache.size, 2);
    assert.ok(cache.peek('a'));
    assert.equal(cache.peek('b'), undefined);
    assert.ok(cache.peek('c'));
  });

  it('invalidate drops the name and every entry filed under it; clear drops all', async () => {
    const cache = new Cache<string>({ negative: true });
    await cache.load('key1\0alice', async () => 'g1', 'key1');
    await cache.load('key1\0bob', async () => undefined, 'key1');
    await cache.load('key2\0alice', async () => 'g2', 'key2');
    cache.invalidate('key1');
    assert.equal(cache.peek('key1\0alice'), undefined);
    assert.equal(cache.peek('key1\0bob'), undefined);
    assert.ok(cache.peek('key2\0alice'));
    cache.invalidate('key2\0alice');
    assert.equal(cache.size, 0);
    await cache.load('x', async () => 'x');
    await cache.load('y', async () => 'y', 'key2');
    cache.clear();
    assert.equal(cache.size, 0);
  });

  it('listens to a topic of an invalidation port: a key drops that name, no key drops all, other topics nothing', async () => {
    const port = new InProcessInvalidation();
    const cache = new Cache<string>();
    const stop = cache.listen(port, 'things');
    await cache.load('a', async () => 'A');
    await cache.load('b', async () => 'B');
    await port.publish('other', 'a');
    assert.equal(cache.size, 2);
    await port.publish('things', 'a');
    assert.equal(cache.peek('a'), undefined);
    assert.ok(cache.peek('b'));
    await port.publish('things');
    assert.equal(cache.size, 0);
    stop();
    await cache.load('a', async () => 'A');
    await port.publish('things', 'a');
    assert.ok(cache.peek('a'), 'an unsubscribed cache is not told');
  });

  it('one in-process port reaches every subscriber of the topic before publish resolves', async () => {
    const port = new InProcessInvalidation();
    const a = new Cache<string>();
    const b = new Cache<string>();
    a.listen(port, 't');
    b.listen(port, 't');
    await a.load('k', async () => 'v');
    await b.load('k', async () => 'v');
    const published = port.publish('t', 'k');
    assert.equal(a.peek('k'), undefined);
    assert.equal(b.peek('k'), undefined);
    await published;
  });
});
