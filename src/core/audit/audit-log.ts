import { CloudTrailRecord, canonicalJson, chainHash } from './record.js';

/** The head of the hash chain: the last committed sequence number and its hash (0 and the genesis hash when empty). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** One committed record: its gap-free sequence number, its chain hash and the exact bytes hashed. */
export interface AuditRow {
  readonly seq: number;
  readonly hash: string;
  readonly record: CloudTrailRecord;
  readonly canonical: string;
}

/**
 * Where records become durable. `append` runs in one transaction: it reads the chain head, asks `build`
 * for the rows that follow it, writes them and moves the checkpoint to the last one; when it returns, the
 * rows are on disk (SQLite WAL, synchronous=FULL). It throws when they are not.
 */
export interface AuditSink {
  append(build: (head: ChainHead) => AuditRow[]): void;
}

/** Records waiting for the same commit; at most this many per transaction. */
const MAX_GROUP = 512;

/**
 * The audit log with group commit: `append` queues a record and resolves once the transaction that holds
 * it committed (rejects when it failed — the caller then answers an internal error, never an unrecorded
 * success). All records queued during one turn of the event loop share one transaction (one fsync), so
 * durability costs one fsync per turn, not per request.
 */
export class AuditLog {
  #queue: { record: CloudTrailRecord; resolve: () => void; reject: (err: unknown) => void }[] = [];
  #scheduled = false;

  constructor(
    private readonly sink: AuditSink,
    /** Told of every failed commit (the callers only see an internal error). */
    private readonly onFailure: (err: unknown, records: number) => void = () => {},
  ) {}

  append(record: CloudTrailRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      if (this.#queue.length >= MAX_GROUP) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Commits whatever is queued (close() calls it before the stores close). */
  flush(): void {
    this.#flush();
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    try {
      this.sink.append((head) => {
        let { seq, hash } = head;
        return batch.map(({ record }) => {
          const canonical = canonicalJson(record);
          seq += 1;
          hash = chainHash(hash, canonical);
          return { seq, hash, record, canonical };
        });
      });
    } catch (err) {
      this.onFailure(err, batch.length);
      for (const b of batch) b.reject(err);
      return;
    }
    for (const b of batch) b.resolve();
  }
}
