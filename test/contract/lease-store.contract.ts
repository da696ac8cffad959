import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Clock, ManualClock } from '../../src/core/clock.js';
import { Leases } from '../../src/core/leases/leases.js';
import { acquireOrTakeOver } from '../../src/core/leases/claim.js';
import { HostFacts, HostIdentity } from '../../src/core/leases/host-identity.js';
import { Reopenable } from './reopenable.js';

/** A fresh location's lease store, its times read from `clock`. */
export type OpenLeases = (clock: Clock) => Promise<Reopenable<Leases>>;

const TTL = 10_000;

/** Processes of one host, boot and pid namespace; `dead` are the pids no longer running. */
function hostOf(dead: Set<number>, clock: Clock): (pid: number) => HostIdentity {
  const facts: Omit<HostFacts, 'pid'> = { machineId: 'm1', hostname: 'node-1', bootId: 'boot-1', pidNamespace: 'pid:[1]', bootedAt: clock.now() - 3_600_000 };
  return (pid) => new HostIdentity({ ...facts, pid }, (p) => !dead.has(p));
}

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

  it('takeOver hands a live lease from the named holder and token to another at once, with a larger token; the old holder can neither renew nor release it', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    const a = (await store.tryAcquire('vol', 'a', TTL))!;
    const b = await other.takeOver('vol', 'a', a.token, 'b', TTL);
    assert.equal(b?.holder, 'b');
    assert.equal(b!.token, a.token + 1);
    assert.ok(b!.expiresAt >= clock.now() + TTL - 1_000 && b!.expiresAt <= clock.now() + TTL);
    assert.deepEqual(await store.current('vol'), b);
    assert.equal(await store.tryAcquire('vol', 'a', TTL), undefined);
    await store.release('vol', 'a', a.token);
    assert.equal((await other.tryAcquire('vol', 'b', TTL))?.token, b!.token);
  });

  it('takeOver changes nothing unless the named holder still holds the lease with that token', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    assert.equal(await other.takeOver('never-taken', 'a', 1, 'b', TTL), undefined);
    assert.equal(await other.current('never-taken'), undefined);
    const a = (await store.tryAcquire('vol', 'a', TTL))!;
    assert.equal(await other.takeOver('vol', 'a', a.token + 1, 'b', TTL), undefined);
    assert.equal(await other.takeOver('vol', 'x', a.token, 'b', TTL), undefined);
    // The lease changed hands since it was read (expired and taken by c): the take-over of a's claim fails.
    clock.advance(TTL + 1);
    const c = (await other.tryAcquire('vol', 'c', TTL))!;
    assert.equal(await store.takeOver('vol', 'a', a.token, 'b', TTL), undefined);
    assert.deepEqual(await store.current('vol'), c);
  });

  it('two take-overs of one dead holder racing on two stores: exactly one wins, and the lease is the winner\'s', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    const dead = (await store.tryAcquire('vol', 'dead', TTL))!;
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).takeOver('vol', 'dead', dead.token, `h${round}.${i}`, TTL)));
      const winners = results.filter((r) => r !== undefined);
      if (round === 0) {
        assert.equal(winners.length, 1);
        assert.equal(winners[0]!.token, dead.token + 1);
        assert.deepEqual(await store.current('vol'), winners[0]);
      } else assert.equal(winners.length, 0, 'the dead holder no longer holds it');
    }
  });

  it('the claim of a dead process of this host is taken over at once (acquireOrTakeOver); a live one\'s, another host\'s or an unknown holder\'s is refused until its TTL', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    const dead = new Set<number>();
    const host = hostOf(dead, clock);
    const first = host(101);
    const held = (await acquireOrTakeOver(store, 'vol', `${first.holder}:1`, TTL, first))!;
    assert.ok(held);
    const second = host(102);
    // Alive: refused, as is anyone's claim that cannot be shown dead.
    assert.equal(await acquireOrTakeOver(other, 'vol', `${second.holder}:2`, TTL, second), undefined);
    dead.add(101);
    const taken = await acquireOrTakeOver(other, 'vol', `${second.holder}:2`, TTL, second);
    assert.equal(taken?.holder, `${second.holder}:2`);
    assert.ok(taken!.token > held.token);
    // Its renewal is a plain renewal: same token.
    assert.equal((await acquireOrTakeOver(other, 'vol', `${second.holder}:2`, TTL, second))?.token, taken!.token);
    // The same holder on another node, and holders without a location, are never taken over before their TTL.
    const elsewhere = new HostIdentity({ machineId: 'm2', hostname: 'node-2', bootId: 'boot-2', pidNamespace: 'pid:[1]', bootedAt: 0, pid: 103 }, () => false);
    assert.equal(await acquireOrTakeOver(store, 'vol', `${elsewhere.holder}:3`, TTL, elsewhere), undefined);
    await other.release('vol', `${second.holder}:2`, taken!.token);
    assert.ok(await store.tryAcquire('vol', '4242:legacy', TTL));
    assert.equal(await acquireOrTakeOver(other, 'vol', `${second.holder}:5`, TTL, second), undefined);
    clock.advance(TTL + 1);
    assert.ok(await acquireOrTakeOver(other, 'vol', `${second.holder}:5`, TTL, second));
  });

  it('many processes of this host racing to take over one dead process\'s claim: exactly one gets it', async () => {
    const clock = new ManualClock();
    const { store, another } = await open(clock);
    const other = await another();
    const host = hostOf(new Set([200]), clock);
    const deadOne = host(200);
    await store.tryAcquire('vol', `${deadOne.holder}:0`, TTL);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => {
        const me = host(300 + i);
        return acquireOrTakeOver(i % 2 ? other : store, 'vol', `${me.holder}:${i}`, TTL, me);
      }),
    );
    const winners = results.filter((r) => r !== undefined);
    assert.equal(winners.length, 1);
    assert.equal((await store.current('vol'))?.holder, winners[0]!.holder);
  });
}
