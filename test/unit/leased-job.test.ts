import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { LeaseGuard, LeasedJob } from '../../src/core/leases/leased-job.js';
import { Leases } from '../../src/core/leases/leases.js';
import { HostIdentity } from '../../src/core/leases/host-identity.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { SqliteLeaseStore } from '../../src/store/metadata/sqlite/lease-store.js';

const opened: SqliteDatabase[] = [];
after(() => {
  for (const d of opened) if (d.db.open) d.close();
});

/** Two processes' lease stores on one fresh data dir, on one clock. */
function twoStores(clock: ManualClock): [Leases, Leases] {
  const dir = mkdtempSync(join(tmpdir(), 'sr-leased-job-'));
  const open = () => {
    const d = SqliteDatabase.inDataDir(dir);
    opened.push(d);
    return new SqliteLeaseStore(d, clock);
  };
  return [open(), open()];
}

/** A process that froze (or died without a word): its calls to the database never come back. */
function freezable(leases: Leases): Leases & { freeze(): void } {
  let frozen = false;
  const never = new Promise<never>(() => {});
  return {
    freeze: () => (frozen = true),
    tryAcquire: (...a) => (frozen ? never : leases.tryAcquire(...a)),
    release: (...a) => (frozen ? never : leases.release(...a)),
    takeOver: (...a) => (frozen ? never : leases.takeOver(...a)),
    current: (...a) => leases.current(...a),
  };
}

const TTL = 9_000;

describe('LeasedJob', () => {
  it('two runners on one store: exactly one runs each tick, always the same while it renews', async () => {
    const clock = new ManualClock();
    const [sa, sb] = twoStores(clock);
    const runs: string[] = [];
    const a = new LeasedJob({ leases: sa, name: 'sweep', clock, holder: 'a', ttlMs: TTL });
    const b = new LeasedJob({ leases: sb, name: 'sweep', clock, holder: 'b', ttlMs: TTL });
    for (let tick = 0; tick < 6; tick++) {
      const ran = await Promise.all([a.run(async () => runs.push(`a${tick}`)), b.run(async () => runs.push(`b${tick}`))]);
      assert.equal(ran.filter((r) => r !== undefined).length, 1, `tick ${tick}: ${runs.join(',')}`);
      clock.advance(TTL / 3);
    }
    assert.equal(new Set(runs.map((r) => r[0])).size, 1);
  });

  it('when the holder stops renewing, the other takes the work over once the TTL passed, not before', async () => {
    const clock = new ManualClock();
    const [sa, sb] = twoStores(clock);
    const a = new LeasedJob({ leases: sa, name: 'sweep', clock, holder: 'a', ttlMs: TTL });
    const b = new LeasedJob({ leases: sb, name: 'sweep', clock, holder: 'b', ttlMs: TTL });
    assert.equal(await a.run(async () => 'a'), 'a');
    clock.advance(TTL - 1_000);
    assert.equal(await b.run(async () => 'b'), undefined);
    clock.advance(1_001);
    assert.equal(await b.run(async () => 'b'), 'b');
    // The old holder, back, is refused: it does not run the work too.
    assert.equal(await a.run(async () => 'a'), undefined);
    assert.equal(a.held(), false);
  });

  it('a holder that was a process of this host and no longer runs is replaced at the other\'s next run, before the TTL; while it runs it is not', async () => {
    const clock = new ManualClock();
    const [sa, sb] = twoStores(clock);
    const dead = new Set<number>();
    const on = (pid: number) => new HostIdentity({ machineId: 'm', hostname: 'h', bootId: 'b', pidNamespace: 'pid:[1]', bootedAt: 0, pid }, (p) => !dead.has(p));
    const a = new LeasedJob({ leases: sa, name: 'sweep', clock, holder: `${on(11).holder}:a`, identity: on(11), ttlMs: TTL });
    const b = new LeasedJob({ leases: sb, name: 'sweep', clock, holder: `${on(12).holder}:b`, identity: on(12), ttlMs: TTL });
    assert.equal(await a.run(async () => 'a'), 'a');
    clock.advance(TTL / 3);
    assert.equal(await b.run(async () => 'b'), undefined, 'a runs: its lease is not taken');
    dead.add(11); // a killed: its lease stays live until its TTL
    assert.equal(await b.run(async () => 'b'), 'b');
    assert.equal(await a.run(async () => 'a'), undefined);
  });

  it('a holder whose lease was taken refuses to go on: its guard turns false, its next run does nothing (fencing)', async () => {
    const clock = new ManualClock();
    const [sa, sb] = twoStores(clock);
    const a = new LeasedJob({ leases: sa, name: 'sweep', clock, holder: 'a', ttlMs: TTL });
    const b = new LeasedJob({ leases: sb, name: 'sweep', clock, holder: 'b', ttlMs: TTL });
    const done: number[] = [];
    let tokenA = 0;
    let tokenB = 0;
    // A long tick: A is paused past its TTL in the middle (GC, a stalled disk), B takes the lease meanwhile.
    await a.run(async (guard: LeaseGuard) => {
      tokenA = guard.token;
      for (let item = 0; item < 4; item++) {
        if (!guard.held()) return;
        done.push(item);
        if (item === 1) {
          clock.advance(TTL + 1);
          await b.run(async (g) => (tokenB = g.token));
        }
      }
    });
    assert.deepEqual(done, [0, 1]);
    assert.ok(tokenB > tokenA);
    assert.equal(await a.run(async () => 'a'), undefined);
  });

  it('stop gives the lease up: the other takes the work over at once, without waiting for the TTL', async () => {
    const clock = new ManualClock();
    const [sa, sb] = twoStores(clock);
    const a = new LeasedJob({ leases: sa, name: 'sweep', clock, holder: 'a', ttlMs: TTL });
    const b = new LeasedJob({ leases: sb, name: 'sweep', clock, holder: 'b', ttlMs: TTL });
    assert.equal(await a.run(async () => 'a'), 'a');
    assert.equal(await b.run(async () => 'b'), undefined);
    await a.stop();
    assert.equal(await b.run(async () => 'b'), 'b');
    assert.equal(await a.run(async () => 'a'), undefined);
  });

  it('started, the holder keeps its lease by renewing every TTL/3; frozen, the other gains it — never before the lease could have expired — and is told', async () => {
    const clock = new ManualClock();
    const [sa, sb] = twoStores(clock);
    const ttlMs = 300;
    const fa = freezable(sa);
    const gained: string[] = [];
    const a = new LeasedJob({ leases: fa, name: 'sweep', clock, holder: 'a', ttlMs, acquired: async () => void gained.push('a') });
    const b = new LeasedJob({ leases: sb, name: 'sweep', clock, holder: 'b', ttlMs, acquired: async () => void gained.push('b') });
    a.start();
    await sleep(50);
    b.start();
    try {
      await sleep(3 * ttlMs); // several TTLs: only A's renewals keep B out
      assert.deepEqual(gained, ['a']);
      assert.equal(a.held(), true);
      const frozenAt = Date.now();
      fa.freeze();
      while (!gained.includes('b') && Date.now() - frozenAt < 5 * ttlMs) await sleep(10);
      const tookMs = Date.now() - frozenAt;
      assert.deepEqual(gained, ['a', 'b']);
      // Safety, not speed: A's last renewal came at most TTL/3 before it froze, so B cannot have gained the lease
      // before 2/3 of a TTL had passed (a loaded machine only makes it later; B's gaining it at all, within the
      // loop's 5 TTLs, is the liveness half — no upper time bound here).
      assert.ok(tookMs >= (2 * ttlMs) / 3 - 50, `took over after ${tookMs} ms, before A's lease could have expired`);
      assert.equal(a.held(), false);
    } finally {
      await b.stop();
    }
  });
});
