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
    append(build: (head: LogHead) => AuditCommit) {
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
