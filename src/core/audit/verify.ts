import { ChainHead } from './audit-log.js';
import { GENESIS_HASH, chainHash } from './record.js';

export interface StoredLink {
  readonly seq: number;
  readonly hash: string;
  readonly record: string;
}

export type VerifyResult =
  | { readonly ok: true; readonly records: number; readonly head: ChainHead }
  | { readonly ok: false; readonly records: number; readonly badSeq: number; readonly problem: string };

/**
 * Recomputes the hash chain from the first record, in sequence order, and checks it against the stored
 * hashes and the checkpoint (the latest seq and hash, written in the same transaction as the records).
 *
 * Detects: an edited record (its recomputed hash differs, or — if its stored hash was recomputed too — the
 * next record's does), a removed record (a gap in the sequence numbers), reordered records (hashes chain
 * through their predecessors), a truncated tail (the checkpoint names a later record than the last one) and
 * records added behind the checkpoint's back.
 * Cannot detect: someone with write access who rewrites the tail from the edit onwards *and* the checkpoint
 * (the chain is unkeyed); truncation together with a rewritten checkpoint. Signed checkpoints (keys in the
 * root of trust) or copies held elsewhere (CloudTrail digest files) close that gap; they are not built yet.
 */
export function verifyChain(rows: Iterable<StoredLink>, checkpoint: ChainHead | undefined): VerifyResult {
  let expected = 1;
  let prev = GENESIS_HASH;
  let count = 0;
  for (const row of rows) {
    if (row.seq !== expected) {
      return { ok: false, records: count, badSeq: expected, problem: row.seq > expected ? `record ${expected} is missing (the next record is ${row.seq})` : `record ${row.seq} is out of order` };
    }
    const hash = chainHash(prev, row.record);
    if (hash !== row.hash) return { ok: false, records: count, badSeq: row.seq, problem: `record ${row.seq} does not match its hash chain (edited, replaced or reordered)` };
    prev = hash;
    count += 1;
    expected += 1;
  }
  const last = expected - 1;
  if (checkpoint === undefined) {
    return last === 0 ? { ok: true, records: 0, head: { seq: 0, hash: GENESIS_HASH } } : { ok: false, records: count, badSeq: 1, problem: 'the checkpoint is missing' };
  }
  if (checkpoint.seq > last) return { ok: false, records: count, badSeq: last + 1, problem: `the log ends at record ${last} but the checkpoint names record ${checkpoint.seq} (truncated)` };
  if (checkpoint.seq < last) return { ok: false, records: count, badSeq: checkpoint.seq + 1, problem: `records after the checkpoint (${checkpoint.seq}) were not written by the server` };
  if (checkpoint.hash !== prev) return { ok: false, records: count, badSeq: last, problem: `record ${last} does not match the checkpoint's hash` };
  return { ok: true, records: count, head: { seq: last, hash: prev } };
}
