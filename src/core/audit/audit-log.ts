import { MerkleFrontier, leafHash } from './merkle.js';
import { CloudTrailRecord, canonicalJson, chainHash } from './record.js';
import { SignedTreeHead } from './tree-head.js';
import { TreeHeadSigner } from './tree-head-key.js';

/** The head of the hash chain: the last committed sequence number and its hash (0 and the genesis hash when empty). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** The head of the log as the checkpoint holds it: the chain head and the Merkle frontier of its `seq` records. */
export interface LogHead extends ChainHead {
  readonly tree: MerkleFrontier;
}

/** One committed record: its gap-free sequence number, its chain hash and the exact bytes hashed. */
export interface AuditRow {
  readonly seq: number;
  readonly hash: string;
  readonly record: CloudTrailRecord;
  readonly canonical: string;
}

/** What one transaction commits: the rows, the log head after them, and the signed tree head covering them. */
export interface AuditCommit {
  readonly rows: AuditRow[];
  readonly head: LogHead;
  readonly treeHead: SignedTreeHead;
}

/**
 * Where records become durable. `append` runs in one transaction: it reads the log head, asks `build`
 * for the commit that follows it, writes its rows, moves the checkpoint (seq, hash, Merkle frontier) to the
 * last one and stores its signed tree head; when it resolves, all of it is committed (and durable, unless
 * the sink has `durable()`). It rejects, having written nothing, when it is not.
 */
export interface AuditSink {
  append(build: (head: LogHead) => AuditCommit): Promise<void>;
  /**
   * When the sink's commits are made durable after the fact (SQLite with asyncDurability): resolves once
   * every commit before the call is on disk. Absent: `append` itself returned only once durable.
   */
  durable?(): Promise<void>;
}

/**
 * The commit that appends `records` to `head`: each gets the next seq, its chain hash and its Merkle leaf
 * (the same canonical bytes), and one tree head signed for the new size. One signature per commit group
 * (~50 µs for Ed25519, against a group's fsync) keeps the newest signed head always covering the last
 * committed record: no window in which the tail can be rewritten undetected.
 */
export function buildCommit(head: LogHead, records: readonly CloudTrailRecord[], signer: Pick<TreeHeadSigner, 'sign'>, timestamp: number): AuditCommit {
  let { seq, hash } = head;
  const tree = head.tree.clone();
  const rows = records.map((record) => {
    const canonical = canonicalJson(record);
    seq += 1;
    hash = chainHash(hash, canonical);
    tree.append(leafHash(canonical));
    return { seq, hash, record, canonical };
  });
  return { rows, head: { seq, hash, tree }, treeHead: signer.sign(seq, tree.root(), timestamp) };
}

/**
 * A record waiting for its commit: `durable` when its promise waits for the sink's durable() too; `last` on
 * the last record of one appendAll/appendCommitted call (a group never ends inside a call: its copies
 * commit in one transaction).
 */
interface QueuedRecord {
  readonly record: CloudTrailRecord;
  readonly durable: boolean;
  readonly last: boolean;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** Records waiting for the same commit; at most this many per transaction. */
const MAX_GROUP = 512;

/**
 * The audit log with group commit: `append` queues a record and resolves once the transaction that holds
 * it committed (rejects when it failed — the caller then answers an internal error, never an unrecorded
 * success). All records queued during one turn of the event loop share one transaction (one fsync), so
 * durability costs one fsync per turn, not per request. One commit is in flight at a time: records queued
 * while it runs (a database round trip away) form the next group, so groups commit in the order they
 * were queued and grow with the sink's latency instead of queueing transactions behind each other.
 */
export class AuditLog {
  #queue: QueuedRecord[] = [];
  #scheduled = false;
  /** The group being committed; undefined when none is. */
  #inflight: Promise<void> | undefined;

  constructor(
    private readonly sink: AuditSink,
    /** Signs a tree head per commit group (its key unwrapped by the root of trust at start). */
    private readonly signer: Pick<TreeHeadSigner, 'sign'>,
    /** Told of every failed commit (the callers only see an internal error). */
    private readonly onFailure: (err: unknown, records: number) => void = () => {},
    /** The tree heads' timestamps: wall-clock time (the domain clock of tests moves only record times). */
    private readonly now: () => number = Date.now,
  ) {}

  append(record: CloudTrailRecord): Promise<void> {
    return this.appendAll([record]);
  }

  /** Several records of one event (a cross-account call's copies): queued together, so committed in one transaction. */
  appendAll(records: readonly CloudTrailRecord[]): Promise<void> {
    return this.#enqueue(records, true);
  }

  /**
   * Like appendAll, but resolves once the records are committed — in the log, in order, after every earlier
   * record — without waiting for them to be durable (rejects when the commit failed). Only for records of a
   * call made inside another call whose own record is appended afterwards with appendAll and awaited before
   * its answer leaves: the sink's durability is a prefix of its commits (`durable()` covers every commit made
   * before it), so that one wait makes these durable too — one fsync for the whole request, and still no
   * answer before all of its records are on disk (S3 calling KMS: services/service.ts#dispatchTyped).
   */
  appendCommitted(records: readonly CloudTrailRecord[]): Promise<void> {
    return this.#enqueue(records, false);
  }

  #enqueue(records: readonly CloudTrailRecord[], durable: boolean): Promise<void> {
    const done = Promise.all(
      records.map((record, i) => new Promise<void>((resolve, reject) => this.#queue.push({ record, durable, last: i === records.length - 1, resolve, reject }))),
    );
    if (this.#queue.length >= MAX_GROUP) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    return done.then(() => undefined);
  }

  /** Commits whatever is queued, and resolves once no commit is in flight (close() awaits it before the stores close). */
  async flush(): Promise<void> {
    this.#flush();
    while (this.#inflight) await this.#inflight;
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#inflight || this.#queue.length === 0) return;
    // At most MAX_GROUP records, unless one call's records straddle the limit: those stay together.
    let end = Math.min(MAX_GROUP, this.#queue.length);
    while (!this.#queue[end - 1]!.last) end++;
    const batch = this.#queue.splice(0, end);
    this.#inflight = this.#commit(batch).finally(() => {
      this.#inflight = undefined;
      // Whatever was queued meanwhile has waited one commit already: it goes next, without another turn.
      if (this.#queue.length > 0) this.#flush();
    });
  }

  /** Commits one group; never rejects (each record's own promise carries the outcome). */
  async #commit(batch: QueuedRecord[]): Promise<void> {
    try {
      await this.sink.append((head) =>
        buildCommit(
          head,
          batch.map((b) => b.record),
          this.signer,
          this.now(),
        ),
      );
    } catch (err) {
      this.onFailure(err, batch.length);
      for (const b of batch) b.reject(err);
      return;
    }
    // Committed: records that need not wait for durability are done (a sink without durable() is durable now).
    const waiting: QueuedRecord[] = [];
    for (const b of batch) {
      if (this.sink.durable && b.durable) waiting.push(b);
      else b.resolve();
    }
    if (!this.sink.durable || waiting.length === 0) return;
    // The fsync runs on the thread pool: the event loop serves other requests meanwhile, and the next
    // groups' fsyncs coalesce behind this one (not awaited: the next group commits meanwhile). No answer
    // leaves before its record is on disk.
    this.sink.durable().then(
      () => {
        for (const b of waiting) b.resolve();
      },
      (err: unknown) => {
        this.onFailure(err, waiting.length);
        for (const b of waiting) b.reject(err);
      },
    );
  }
}
