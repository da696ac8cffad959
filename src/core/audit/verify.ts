import { KeyObject } from 'node:crypto';
import { ChainHead } from './audit-log.js';
import { MerkleFrontier, leafHash } from './merkle.js';
import { GENESIS_HASH, chainHash } from './record.js';
import { SignedTreeHead, treeHeadSignatureValid } from './tree-head.js';

export interface StoredLink {
  readonly seq: number;
  readonly hash: string;
  readonly record: string;
}

/** The checkpoint row: the chain head, and the Merkle frontier (null before the first commit after migration 010). */
export interface StoredCheckpoint extends ChainHead {
  readonly frontier: Buffer | null;
}

/** A stored signed tree head; `id` is its row number, how the report names it (#id). */
export interface StoredTreeHead extends SignedTreeHead {
  readonly id: number;
}

/** The public key the heads are checked against. */
export interface VerifyKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
}

export interface VerifyInput {
  /** Every record, in sequence order. */
  readonly rows: Iterable<StoredLink>;
  readonly checkpoint: StoredCheckpoint | undefined;
  /** Every stored signed tree head, in row order (the order they were written). */
  readonly treeHeads: readonly StoredTreeHead[];
  /** Undefined when there is none (no key in the data dir and none given): every head is then reported. */
  readonly key: VerifyKey | undefined;
}

/** One thing wrong; `seq` is the first sequence number it concerns (for the chain's problems). */
export interface Problem {
  readonly seq?: number;
  readonly message: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Records read (all of them; the chain's problems stop neither the count nor the tree). */
  readonly records: number;
  /** Records the hash chain verified before its first problem. */
  readonly chainVerified: number;
  readonly head: ChainHead;
  /** MTH of all the records read (RFC 6962 §2.1). */
  readonly rootHash: Buffer;
  /** Heads whose signature and root both checked out. */
  readonly validTreeHeads: number;
  /** The newest stored head, when there is one. */
  readonly latestTreeHead: StoredTreeHead | undefined;
  readonly problems: Problem[];
}

/**
 * Recomputes, in one pass over the records in sequence order, the hash chain and the RFC 6962 Merkle tree,
 * and checks them against the stored hashes, the checkpoint and every signed tree head (each head's root
 * must be the MTH of the first treeSize records: the running frontier's root as the pass reaches that size).
 *
 * The chain (unkeyed) detects an edited record (its recomputed hash differs, or — if its stored hash was
 * recomputed too — the next record's does), a removed record (a gap in the sequence numbers), reordered
 * records, a truncated tail (the checkpoint names a later record) and records added behind the checkpoint's
 * back. The signed heads (keyed: only the root of trust can unwrap the signing key) detect what the chain
 * cannot: someone with write access who rewrites the records from some point on and recomputes the chain,
 * the frontier and the checkpoint. Their new tail has no head with a valid signature, and every head signed
 * before covering the rewritten part no longer matches. Every commit signs a head, so the newest head must
 * cover the last record.
 *
 * Cannot detect, offline and with nothing kept elsewhere: cutting the log back to exactly the size of a kept
 * signed head and deleting the newer heads (what is left is a genuine, signed, shorter log). Pin a head
 * outside the data dir (the newest head's size and root printed by verify) and compare, or deliver digest
 * files to a trail in another place, to see that. A data-dir public key replaced by an attacker who re-signed
 * every head with a key of their own is seen by verifying against a public key pinned earlier (and by the
 * server, which refuses to start when the stored public key is not the wrapped private key's).
 */
export function verifyLog(input: VerifyInput): VerifyReport {
  const v = new LogVerification(input.treeHeads, input.key);
  for (const row of input.rows) v.add(row);
  return v.finish(input.checkpoint);
}

/**
 * verifyLog over records read a page at a time (`links` as AuditLogSource has it): the same one pass, never
 * more than two pages of records in memory, whatever the log's size. The next page is asked for before this
 * one is hashed, so the database (PostgreSQL: another process, often another core) reads it meanwhile.
 */
export async function verifyLogPaged(input: Omit<VerifyInput, 'rows'> & { links(afterSeq: number, limit: number): Promise<StoredLink[]>; pageSize?: number }): Promise<VerifyReport> {
  const v = new LogVerification(input.treeHeads, input.key);
  const pageSize = input.pageSize ?? 2000;
  // From below every sequence number: a row numbered 0 or less (an edit) is read, and reported, too.
  let next: Promise<StoredLink[]> | undefined = input.links(Number.MIN_SAFE_INTEGER, pageSize);
  while (next) {
    const page: StoredLink[] = await next;
    next = page.length < pageSize ? undefined : input.links(page[page.length - 1]!.seq, pageSize);
    // Not left unhandled while this page is hashed: its rejection is seen at the next await.
    next?.catch(() => undefined);
    for (const row of page) v.add(row);
  }
  return v.finish(input.checkpoint);
}

/** The one pass of verifyLog, fed a record at a time in sequence order (`add`), then concluded (`finish`). */
export class LogVerification {
  readonly #key: VerifyKey | undefined;
  readonly #heads: readonly StoredTreeHead[];
  readonly #bySize: readonly StoredTreeHead[];
  readonly #problems: Problem[] = [];
  readonly #tree = MerkleFrontier.empty();
  #expected = 1;
  #prev = GENESIS_HASH;
  #chainProblem = false;
  #chainVerified = 0;
  #lastMatching: StoredTreeHead | undefined;
  #validTreeHeads = 0;
  #next = 0;

  constructor(treeHeads: readonly StoredTreeHead[], key: VerifyKey | undefined) {
    this.#key = key;
    const heads = [...treeHeads];
    this.#heads = heads;
    // Heads in the order written, each larger than the one before: check that, then walk them by size.
    for (let i = 1; i < heads.length; i++) {
      const a = heads[i - 1]!;
      const b = heads[i]!;
      if (b.treeSize <= a.treeSize) this.#problems.push({ message: `signed tree head #${b.id} (size ${b.treeSize}) is not larger than the one written before it (#${a.id}, size ${a.treeSize}): heads were reordered or replaced` });
    }
    this.#bySize = [...heads].sort((x, y) => x.treeSize - y.treeSize || x.id - y.id);
    this.#checkHeadsAt(0);
  }

  #checkHeadsAt(size: number): void {
    const bySize = this.#bySize;
    for (; this.#next < bySize.length && bySize[this.#next]!.treeSize === size; this.#next++) {
      const h = bySize[this.#next]!;
      const signed = checkSignature(h, this.#key, this.#problems);
      if (!this.#tree.root().equals(h.rootHash)) {
        const last = this.#lastMatching;
        const after = last ? ` (after seq ${last.treeSize}: #${last.id} of size ${last.treeSize} still matches)` : '';
        this.#problems.push({ message: `signed tree head #${h.id} (size ${h.treeSize}) does not match the records: record(s) edited, removed or reordered at or before seq ${h.treeSize}${after}` });
      } else {
        this.#lastMatching = h;
        if (signed) this.#validTreeHeads += 1;
      }
    }
  }

  /** The next record, in sequence order. */
  add(row: StoredLink): void {
    if (!this.#chainProblem) {
      const expected = this.#expected;
      if (row.seq !== expected) {
        this.#chainProblem = true;
        this.#problems.push({ seq: expected, message: row.seq > expected ? `record ${expected} is missing (the next record is ${row.seq})` : `record ${row.seq} is out of order` });
      } else {
        const hash = chainHash(this.#prev, row.record);
        if (hash !== row.hash) {
          this.#chainProblem = true;
          this.#problems.push({ seq: row.seq, message: `record ${row.seq} does not match its hash chain (edited, replaced or reordered)` });
        } else {
          this.#prev = hash;
          this.#chainVerified += 1;
        }
      }
      this.#expected += 1;
    }
    this.#tree.append(leafHash(row.record));
    this.#checkHeadsAt(this.#tree.size);
  }

  /** The verdict once every record was added, checked against the checkpoint. */
  finish(checkpoint: StoredCheckpoint | undefined): VerifyReport {
    const problems = this.#problems;
    const bySize = this.#bySize;
    const tree = this.#tree;
    const records = tree.size;

    // Heads larger than the log: the records they covered are gone.
    for (; this.#next < bySize.length; this.#next++) {
      const h = bySize[this.#next]!;
      checkSignature(h, this.#key, problems);
      problems.push({ message: `signed tree head #${h.id} (size ${h.treeSize}) covers more records than the log holds (${records}): records ${records + 1}..${h.treeSize} were removed (tail truncated)` });
    }
    const latest = this.#heads[this.#heads.length - 1];
    const largest = bySize[bySize.length - 1];
    if (records > 0 && (largest === undefined || largest.treeSize < records)) {
      const from = (largest?.treeSize ?? 0) + 1;
      problems.push({
        message: largest
          ? `records ${from}..${records} are not covered by a signed tree head (the newest covers ${largest.treeSize}; every commit signs one): they were added without the signing key, or newer heads were deleted`
          : `no signed tree head covers records 1..${records} (every commit signs one: they were deleted, or the data dir predates them and the server has not committed since)`,
      });
    }

    const last = this.#chainVerified;
    const prev = this.#prev;
    if (!this.#chainProblem) {
      const cp = checkpoint;
      if (cp === undefined) {
        if (last > 0) problems.push({ seq: 1, message: 'the checkpoint is missing' });
      } else if (cp.seq > last) problems.push({ seq: last + 1, message: `the log ends at record ${last} but the checkpoint names record ${cp.seq} (truncated)` });
      else if (cp.seq < last) problems.push({ seq: cp.seq + 1, message: `records after the checkpoint (${cp.seq}) were not written by the server` });
      else if (cp.hash !== prev) problems.push({ seq: last, message: `record ${last} does not match the checkpoint's hash` });
      else if (cp.frontier !== null && !cp.frontier.equals(tree.toBytes())) problems.push({ seq: last, message: "the checkpoint's Merkle frontier does not match the records (the next commit would sign a wrong root)" });
    }
    return { ok: problems.length === 0, records, chainVerified: last, head: { seq: last, hash: prev }, rootHash: tree.root(), validTreeHeads: this.#validTreeHeads, latestTreeHead: latest, problems };
  }
}

/** Checks one head's key and signature, reporting what is wrong; true when both are good. */
function checkSignature(h: StoredTreeHead, key: VerifyKey | undefined, problems: Problem[]): boolean {
  if (key === undefined) {
    problems.push({ message: `signed tree head #${h.id} (size ${h.treeSize}) cannot be checked: no public key` });
    return false;
  }
  if (h.keyId !== key.keyId) {
    problems.push({ message: `signed tree head #${h.id} (size ${h.treeSize}) names signing key ${h.keyId}, not the key verified against (${key.keyId})` });
    return false;
  }
  if (!treeHeadSignatureValid(h, key.publicKey)) {
    problems.push({ message: `the signature of signed tree head #${h.id} (size ${h.treeSize}) is invalid: the head was forged or altered` });
    return false;
  }
  return true;
}
