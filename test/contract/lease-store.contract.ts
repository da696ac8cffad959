import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Clock, ManualClock } from '../../src/core/clock.js';
import { Leases } from '../../src/core/leases/leases.js';
import { Reopenable } from './reopenable.js';

/** A fresh location's lease store, its times read from `clock`. */
export type OpenLeases = (clock: Clock) => Promise<Reopenable<Leases>>;

const TTL = 10_000;

/**
 * The behaviour every lease store must have (src/core/leases/leases.ts), asserted only through the interface;
 * each implementation's test file runs it with its own `open`. `another` stands for a second process or node.
 */
export function leaseStoreContract(open: OpenLeases): void {
  it('the first holder acquires a free lease; another holder is refused while it is live', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    const lease = await store.tryAcquire('sweep', 'a', TTL);
    assert.ok(lease);
    assert.equal(lease.holder, 'a');
    assert.ok(lease.expiresAt >= clock.now() + TTL - 1_000 && lease.expiresAt <= clock.now() + TTL);
    assert.equal(await other.tryAcquire('sweep', 'b', TTL), undefined);
    clock.advance(TTL - 1_000);
    assert.equal(await other.tryAcquire('sweep', 'b', TTL), undefined);
    assert.equal((await other.current('sweep'))?.holder, 'a');
  });

  it('the holder renews its live lease: same token, expiry moved; so another holder never gets it', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    const first = (await store.tryAcquire('sweep', 'a', TTL))!;
    for (let i = 0; i < 5; i++) {
      clock.advance(TTL / 2);
      const renewed = await store.tryAcquire('sweep', 'a', TTL);
      assert.equal(renewed?.token, first.token);
      assert.ok(renewed!.expiresAt > first.expiresAt);
      assert.equal(await other.tryAcquire('sweep', 'b', TTL), undefined);
    }
  });

  it('once the holder stopped renewing past the TTL another holder takes the lease with a larger token, and the old holder is refused', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    const a = (await store.tryAcquire('sweep', 'a', TTL))!;
    clock.advance(TTL + 1);
    const b = await other.tryAcquire('sweep', 'b', TTL);
    assert.equal(b?.holder, 'b');
    assert.ok(b!.token > a.token);
    assert.equal(await store.tryAcquire('sweep', 'a', TTL), undefined);
    assert.deepEqual(await store.current('sweep'), b);
  });

  it('a holder that let its own lease expire gets a new token when it acquires it again (its old one is dead)', async () => {
    const clock = new ManualClock();
    const { store } = await open(clock);
    const first = (await store.tryAcquire('sweep', 'a', TTL))!;
    clock.advance(TTL + 1);
    const again = (await store.tryAcquire('sweep', 'a', TTL))!;
    assert.ok(again.token > first.token);
  });

  it('release frees the lease at once; a release by another holder or with a stale token changes nothing', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    const a = (await store.tryAcquire('sweep', 'a', TTL))!;
    await other.release('sweep', 'b', a.token);
    await other.release('sweep', 'a', a.token + 1);
    assert.equal(await other.tryAcquire('sweep', 'b', TTL), undefined);
    await store.release('sweep', 'a', a.token);
    const b = (await other.tryAcquire('sweep', 'b', TTL))!;
    assert.ok(b.token > a.token);
    // The old holder's late release does not free the new holder's lease.
    await store.release('sweep', 'a', a.token);
    assert.equal(await store.tryAcquire('sweep', 'a', TTL), undefined);
    // Tokens keep growing across releases: a token is never handed out twice.
    await other.release('sweep', 'b', b.token);
    assert.ok((await store.tryAcquire('sweep', 'a', TTL))!.token > b.token);
  });

  it('leases of different names are independent', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    assert.ok(await store.tryAcquire('kms-lifecycle', 'a', TTL));
    assert.ok(await other.tryAcquire('trail-delivery', 'b', TTL));
    assert.equal(await other.tryAcquire('kms-lifecycle', 'b', TTL), undefined);
    assert.equal(await store.tryAcquire('trail-delivery', 'a', TTL), undefined);
    assert.equal(await store.current('never-taken'), undefined);
  });

  it('many holders on two stores racing for one free lease: exactly one gets it', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).tryAcquire('race', `h${i}`, TTL)));
    const winners = results.filter((r) => r !== undefined);
    assert.equal(winners.length, 1);
    assert.equal((await store.current('race'))?.holder, winners[0]!.holder);
  });

  it('a lease outlives a restart of the store: the holder still holds it, others are still refused', async () => {
    const clock = new ManualClock();
    const { store, reopen } = await open(clock);
    const a = (await store.tryAcquire('sweep', 'a', TTL))!;
    const reopened = await reopen();
    assert.equal(await reopened.tryAcquire('sweep', 'b', TTL), undefined);
    assert.equal((await reopened.tryAcquire('sweep', 'a', TTL))?.token, a.token);
  });
}
