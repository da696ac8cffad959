import { createHash } from 'node:crypto';

/**
 * The audit log as an RFC 6962 Merkle tree (Certificate Transparency's): leaf i is record seq i+1, its bytes
 * the canonical JSON the hash chain hashes. The hash prefixes keep a leaf from ever passing for an inner
 * node (RFC 6962 §2.1, second-preimage resistance).
 * https://www.rfc-editor.org/rfc/rfc6962#section-2.1
 */
export const HASH_BYTES = 32;

/** MTH({}) = SHA-256() — the hash of the empty string (RFC 6962 §2.1). */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** MTH({d}) = SHA-256(0x00 ‖ d). */
export function leafHash(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** An inner node: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

const LEAF_PREFIX = Buffer.of(0x00);
const NODE_PREFIX = Buffer.of(0x01);

/**
 * The right edge of the tree: the roots of the full (power-of-two) subtrees that the first `size` leaves
 * split into, largest (leftmost) first — one per set bit of `size`, so at most 64. RFC 6962 §2.1 splits
 * D[n] at the largest power of two k < n, which makes these subtrees exactly the left operands of the
 * tree's right spine: MTH(D[n]) is them folded from the right. So appending a leaf costs O(log n)
 * hashes (amortised O(1): binary-counter carries) and the root O(log n), never a rescan of the log.
 * What the checkpoint stores beside (seq, hash), in the same transaction as the records.
 */
export class MerkleFrontier {
  #size: number;
  readonly #nodes: Buffer[];

  private constructor(size: number, nodes: Buffer[]) {
    this.#size = size;
    this.#nodes = nodes;
  }

  static empty(): MerkleFrontier {
    return new MerkleFrontier(0, []);
  }

  /** The frontier of `size` leaves from its stored form (the node hashes concatenated, largest first). */
  static fromBytes(size: number, bytes: Uint8Array): MerkleFrontier {
    const count = popcount(size);
    if (!Number.isSafeInteger(size) || size < 0 || bytes.length !== count * HASH_BYTES) {
      throw new Error(`a Merkle frontier of ${size} leaves has ${count} nodes, not ${bytes.length / HASH_BYTES}`);
    }
    const nodes: Buffer[] = [];
    for (let i = 0; i < count; i++) nodes.push(Buffer.from(bytes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)));
    return new MerkleFrontier(size, nodes);
  }

  get size(): number {
    return this.#size;
  }

  toBytes(): Buffer {
    return Buffer.concat(this.#nodes);
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.#size, [...this.#nodes]);
  }

  /** Adds the next leaf (its leaf hash): merges equal-sized subtrees as a binary counter carries. */
  append(leaf: Buffer): void {
    let node = leaf;
    for (let n = this.#size; n % 2 === 1; n = Math.floor(n / 2)) node = nodeHash(this.#nodes.pop()!, node);
    this.#nodes.push(node);
    this.#size += 1;
  }

  /** MTH of the first `size` leaves (RFC 6962 §2.1); the empty tree's is SHA-256 of nothing. */
  root(): Buffer {
    let i = this.#nodes.length - 1;
    if (i < 0) return EMPTY_ROOT;
    let hash = this.#nodes[i]!;
    while (--i >= 0) hash = nodeHash(this.#nodes[i]!, hash);
    return hash;
  }
}

/** Set bits of a non-negative safe integer (beyond 2^32 too, where `>>>` would cut). */
function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/**
 * The audit path of leaf `index` in the tree of the first `size` leaf hashes: RFC 6962 §2.1.1's
 * PATH(m, D[n]) — the siblings from the leaf up, each the root of the other half of a split at the largest
 * power of two below the subtree's size. O(size) hashes: for an offline proof, not the commit path.
 * https://www.rfc-editor.org/rfc/rfc6962#section-2.1.1
 */
export function inclusionProof(leaves: readonly Buffer[], index: number, size: number = leaves.length): Buffer[] {
  if (!(size <= leaves.length && index >= 0 && index < size)) throw new Error(`no leaf ${index} in a tree of ${size}`);
  const path: Buffer[] = [];
  let lo = 0;
  let hi = size;
  // Walk down from the root, keeping the sibling of each half the leaf is in; the path lists them bottom-up.
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      path.push(subtreeRoot(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      path.push(subtreeRoot(leaves, lo, lo + k));
      lo += k;
    }
  }
  return path.reverse();
}

/**
 * inclusionProof for a tree too large to hold in memory: the leaf hashes are given one at a time, in order
 * (`add`), and only O(log size) hashes are kept. The path's subtrees are disjoint runs of leaves (every leaf
 * but `index` is in exactly one), so each is folded in a frontier of its own as its leaves go by.
 */
export class StreamedInclusionProof {
  readonly #size: number;
  readonly #index: number;
  /** The path's subtrees [lo, hi) by position in the log, with where each goes in the (bottom-up) path. */
  readonly #runs: { lo: number; hi: number; at: number }[] = [];
  readonly #path: Buffer[] = [];
  readonly #whole = MerkleFrontier.empty();
  #run = 0;
  #subtree = MerkleFrontier.empty();
  #leaf: Buffer | undefined;

  constructor(index: number, size: number) {
    if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) throw new Error(`no leaf ${index} in a tree of ${size}`);
    this.#size = size;
    this.#index = index;
    // The walk of inclusionProof, remembering each sibling's range instead of hashing it.
    const top: { lo: number; hi: number }[] = [];
    let lo = 0;
    let hi = size;
    while (hi - lo > 1) {
      const k = largestPowerOfTwoBelow(hi - lo);
      if (index < lo + k) {
        top.push({ lo: lo + k, hi });
        hi = lo + k;
      } else {
        top.push({ lo, hi: lo + k });
        lo += k;
      }
    }
    this.#runs = top.map((r, i) => ({ ...r, at: top.length - 1 - i })).sort((a, b) => a.lo - b.lo);
  }

  /** The next leaf hash (leaf number `added`, from 0). */
  add(leaf: Buffer): void {
    const i = this.#whole.size;
    if (i >= this.#size) throw new Error(`a tree of ${this.#size} leaves has no leaf ${i}`);
    this.#whole.append(leaf);
    if (i === this.#index) {
      this.#leaf = leaf;
      return;
    }
    const run = this.#runs[this.#run]!;
    if (i === run.lo) this.#subtree = MerkleFrontier.empty();
    this.#subtree.append(leaf);
    if (i === run.hi - 1) {
      this.#path[run.at] = this.#subtree.root();
      this.#run += 1;
    }
  }

  /** Once all `size` leaves were added: the leaf's hash, its audit path (bottom-up) and the tree's root. */
  result(): { leaf: Buffer; path: Buffer[]; root: Buffer } {
    if (this.#whole.size !== this.#size || this.#leaf === undefined) throw new Error(`${this.#whole.size} of the tree's ${this.#size} leaves were added`);
    return { leaf: this.#leaf, path: [...this.#path], root: this.#whole.root() };
  }
}

/**
 * Whether `proof` shows leaf hash `leaf` at `index` in a tree of `size` whose root is `root`: the verifier
 * of RFC 9162 §2.1.3.2 (RFC 6962's successor spells out the algorithm RFC 6962 leaves to the reader).
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2
 */
export function verifyInclusion(leaf: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // The right edge: climb past the levels where this subtree has no right sibling.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** MTH of leaves [lo, hi). */
function subtreeRoot(leaves: readonly Buffer[], lo: number, hi: number): Buffer {
  const t = MerkleFrontier.empty();
  for (let i = lo; i < hi; i++) t.append(leaves[i]!);
  return t.root();
}

/** The k of RFC 6962 §2.1: the largest power of two smaller than n (n > 1). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
