// AuditLog's two waits (src/core/audit/audit-log.ts): appendAll resolves once its record is durable,
// appendCommitted once it is committed — for the records of a call made inside another call whose own
// record is appended after them and awaited durable (the sink's durable() covers every earlier commit).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { AuditCommit, AuditLog, AuditSink, LogHead } from '../../src/core/audit/audit-log.js';
import { MerkleFrontier } from '../../src/core/audit/merkle.js';
import { CloudTrailRecord, GENESIS_HASH } from '../../src/core/audit/record.js';
import { TreeHeadSigner } from '../../src/core/audit/tree-head-key.js';

const signer = new TreeHeadSigner(generateKeyPairSync('ed25519').privateKey);
const record = (eventName: string) => ({ eventName }) as unknown as CloudTrailRecord;

/** A sink whose commits become durable only when the test says so (as SQLite's WAL before its fsync). */
function sink() {
  let head: LogHead = { seq: 0, hash: GENESIS_HASH, tree: MerkleFrontier.empty() };
  const committed: string[] = [];
  const syncs: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  let failNext = false;
  const s: AuditSink = {
    async append(build: (head: LogHead) => AuditCommit) {
      if (failNext) {
        failNext = false;
        throw new Error('commit failed');
      }
      const commit = build(head);
      head = commit.head;
      committed.push(...commit.rows.map((r) => (r.record as unknown as { eventName: string }).eventName));
    },
    durable: () => new Promise<void>((resolve, reject) => syncs.push({ resolve, reject })),
  };
  return { s, committed, syncs, failCommit: () => (failNext = true) };
}

/** Tracks a promise's state from the start (so a rejection is never unhandled); `settled()` reads it after the queued work ran. */
function track<T>(p: Promise<T>) {
  let state: 'resolved' | 'rejected' | 'pending' = 'pending';
  p.then(() => (state = 'resolved'), () => (state = 'rejected'));
  return async () => {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    return state;
  };
}
const settled = <T>(p: Promise<T>) => track(p)();

describe('audit log: committed and durable waits', () => {
  it('appendCommitted resolves once committed, asks for no sync; the caller’s appendAll after it waits for one sync that covers both', async () => {
    const { s, committed, syncs } = sink();
    const log = new AuditLog(s, signer);
    const inner = log.appendCommitted([record('GenerateDataKey')]);
    assert.equal(await settled(inner), 'resolved');
    assert.deepEqual(committed, ['GenerateDataKey']);
    assert.equal(syncs.length, 0, 'no durability wait for a committed-only record');
    const outer = log.appendAll([record('PutObject')]);
    assert.equal(await settled(outer), 'pending', 'not answered before the sync');
    assert.deepEqual(committed, ['GenerateDataKey', 'PutObject']);
    assert.equal(syncs.length, 1);
    syncs[0]!.resolve();
    assert.equal(await settled(outer), 'resolved');
  });

  it('a failed commit rejects appendCommitted (the inner call fails); a failed sync rejects the appendAll waiting for it only', async () => {
    const { s, syncs, failCommit } = sink();
    const failures: number[] = [];
    const log = new AuditLog(s, signer, (_err, n) => failures.push(n));
    failCommit();
    assert.equal(await settled(log.appendCommitted([record('Decrypt')])), 'rejected');
    const inner = track(log.appendCommitted([record('Decrypt')]));
    const outer = track(log.appendAll([record('GetObject')]));
    assert.equal(await inner(), 'resolved');
    assert.equal(syncs.length, 1);
    syncs[0]!.reject(new Error('fsync failed'));
    assert.equal(await outer(), 'rejected');
    assert.deepEqual(failures, [1, 1]);
  });
});

/** A sink whose commits take a round trip the test ends (as a database server's), durable once committed. */
function remoteSink() {
  let head: LogHead = { seq: 0, hash: GENESIS_HASH, tree: MerkleFrontier.empty() };
  const groups: string[][] = [];
  const pending: { commit: () => void; fail: (err: unknown) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const s: AuditSink = {
    append(build) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<void>((resolve, reject) =>
        pending.push({
          commit: () => {
            const commit = build(head);
            head = commit.head;
            groups.push(commit.rows.map((r) => (r.record as unknown as { eventName: string }).eventName));
            inFlight -= 1;
            resolve();
          },
          fail: (err) => {
            inFlight -= 1;
            reject(err);
          },
        }),
      );
    },
  };
  return { s, groups, pending, maxInFlight: () => maxInFlight, head: () => head };
}

describe('audit log: group commit over an asynchronous sink', () => {
  it('one commit in flight at a time; records queued meanwhile form the next group, committed after it, in order', async () => {
    const { s, groups, pending, maxInFlight, head } = remoteSink();
    const log = new AuditLog(s, signer);
    const first = [track(log.append(record('a1'))), track(log.append(record('a2')))];
    await new Promise((r) => setImmediate(r));
    assert.equal(pending.length, 1, 'the first group went');
    const second = [track(log.append(record('b1')))];
    await new Promise((r) => setImmediate(r));
    const third = [track(log.appendAll([record('b2'), record('b3')]))];
    await new Promise((r) => setImmediate(r));
    assert.equal(pending.length, 1, 'no second transaction while the first is in flight');
    for (const t of [...first, ...second, ...third]) assert.equal(await t(), 'pending', 'nothing answered before its commit');
    pending.shift()!.commit();
    for (const t of first) assert.equal(await t(), 'resolved');
    for (const t of [...second, ...third]) assert.equal(await t(), 'pending');
    assert.equal(pending.length, 1, 'the records queued meanwhile go next, together');
    pending.shift()!.commit();
    for (const t of [...second, ...third]) assert.equal(await t(), 'resolved');
    assert.deepEqual(groups, [['a1', 'a2'], ['b1', 'b2', 'b3']]);
    assert.equal(maxInFlight(), 1);
    assert.equal(head().seq, 5);
  });

  it("one call's records (a cross-account call's copies) commit in one transaction even where they straddle the group limit", async () => {
    const { s, groups, pending } = remoteSink();
    const log = new AuditLog(s, signer);
    const singles = Array.from({ length: 511 }, (_, i) => track(log.append(record(`s${i}`))));
    const copies = track(log.appendAll([record('copy-caller'), record('copy-owner')]));
    await new Promise((r) => setImmediate(r));
    assert.equal(pending.length, 1);
    pending.shift()!.commit();
    for (const t of [...singles, copies]) assert.equal(await t(), 'resolved');
    assert.equal(groups.length, 1, 'both copies in the first transaction, none left for a second');
    assert.deepEqual(groups[0]!.slice(-2), ['copy-caller', 'copy-owner']);
    assert.equal(groups[0]!.length, 513);
  });

  it('a failed commit rejects every call of its group and none of the next; flush() waits for the commit in flight', async () => {
    const { s, groups, pending } = remoteSink();
    const failures: number[] = [];
    const log = new AuditLog(s, signer, (_err, n) => failures.push(n));
    const failed = [track(log.append(record('x1'))), track(log.appendAll([record('x2'), record('x3')]))];
    await new Promise((r) => setImmediate(r));
    const next = track(log.append(record('y1')));
    pending.shift()!.fail(new Error('connection lost'));
    for (const t of failed) assert.equal(await t(), 'rejected');
    assert.deepEqual(failures, [3]);
    let flushed = false;
    const flushing = log.flush().then(() => (flushed = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(flushed, false, 'flush waits for the commit in flight');
    pending.shift()!.commit();
    await flushing;
    assert.equal(await next(), 'resolved');
    assert.deepEqual(groups, [['y1']]);
  });
});
