import type { Readable, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

/**
 * Where object bodies live (already sealed: see src/core/s3/packages.ts). The metadata store says which
 * blob belongs to which object version; this store only keeps bytes under ids it chose itself.
 *
 * Blob ids are random UUIDs made by the store, never derived from bucket names or object keys, so no user
 * input ever becomes a path, and every method refuses an id that is not a UUID (InvalidBlobIdError).
 */
export interface BlobStore {
  /**
   * A new blob being written; invisible to read, size and list until commit. `sizeHint`: its exact size
   * when known up front (a store may place small blobs differently; see tiered-blob-store.ts).
   */
  create(sizeHint?: number): Promise<BlobWriter>;
  /**
   * Bytes [start, end] inclusive (the whole blob when omitted). A missing blob errors the stream with
   * BlobNotFoundError; a range reaching past the blob errors it with RangeError (a blob shorter than its
   * recorded size is damage, not something to hand out short). Throws InvalidBlobIdError or RangeError
   * (start > end, negative, not integers) at once.
   */
  read(id: string, range?: BlobRange): Readable;
  /**
   * Optional: bytes [start, start + length) as one buffer, without a stream (the volume store's chunk reads:
   * many small ranges, where a stream's setup costs more than the read). Rejects like `read`'s stream errors.
   * `into`: a buffer of at least `length` bytes the caller lends — the store may read into it and return a view
   * of it (no allocation per read), or return a buffer of its own.
   */
  readBytes?(id: string, start: number, length: number, into?: Buffer): Promise<Buffer>;
  /**
   * Optional: makes blobs committed with `{ durable: false }` durable (a store without it always commits
   * durably). Rejects with BlobNotFoundError for a blob that is gone.
   */
  sync?(ids: readonly string[]): Promise<void>;
  /** Rejects with BlobNotFoundError. */
  size(id: string): Promise<number>;
  /** Idempotent: deleting a missing blob succeeds. Readers that already opened it may finish. */
  delete(id: string): Promise<void>;
  /** Ids of all committed blobs, in no particular order (for garbage collection against the metadata store). */
  list(): AsyncIterable<string>;
  /**
   * Removes what a crash left half-written; called at start, before writers exist. Writers still open in
   * this same store are left alone. Returns how many were removed.
   */
  sweepIncomplete(): Promise<number>;
}

/** Bytes [start, start + length) of a blob: the store's readBytes where it has one, else its range read collected. */
export function readBlobBytes(store: BlobStore, id: string, start: number, length: number, into?: Buffer): Promise<Buffer> {
  return store.readBytes ? store.readBytes(id, start, length, into) : buffer(store.read(id, { start, end: start + length - 1 }));
}

export interface BlobWriter {
  readonly id: string;
  /** Write the bytes here; end it or let commit end it. */
  readonly stream: Writable;
  /**
   * Ends the stream, makes the bytes durable and publishes the blob atomically under `id`. If it fails, the
   * partial blob is removed and the error is thrown. Calling it again returns the same outcome.
   * `durable: false`: published (readable under `id`) but not yet known to survive a crash — BlobStore.sync
   * does that later, for many blobs at once (volume segments written behind, made durable at the next flush).
   * A store whose commits are durable anyway ignores it.
   */
  commit(options?: { durable?: boolean }): Promise<void>;
  /** Discards the blob (idempotent; a no-op after a successful commit). */
  abort(): Promise<void>;
}

export interface BlobRange {
  readonly start: number;
  readonly end: number;
}

export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';

  constructor(readonly id: string) {
    super(`blob ${id} does not exist`);
  }
}

export class InvalidBlobIdError extends Error {
  override readonly name = 'InvalidBlobIdError';

  constructor() {
    // The offending value is not echoed: it may be anything a caller passed on.
    super('a blob id must be a lowercase UUID');
  }
}

const BLOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Blob ids are what crypto.randomUUID() returns: lowercase RFC 9562 UUIDs, nothing else. */
export function isBlobId(id: unknown): id is string {
  return typeof id === 'string' && BLOB_ID.test(id);
}

export function assertBlobId(id: unknown): asserts id is string {
  if (!isBlobId(id)) throw new InvalidBlobIdError();
}

export function assertBlobRange(range: BlobRange | undefined): void {
  if (range === undefined) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`${start}-${end} is not a byte range`);
  }
}

/**
 * The first step of a BlobWriter's commit: ends the body stream if the caller has not, waits until it has
 * finished (or was destroyed), and throws what it failed with (`failure()`, its first 'error') or, when it was
 * destroyed before finishing, that.
 */
export async function finishedBody(stream: Writable, failure: () => Error | undefined): Promise<void> {
  if (!stream.writableFinished && !stream.destroyed) {
    await new Promise<void>((resolve) => {
      stream.once('close', resolve);
      stream.once('finish', resolve);
      if (!stream.writableEnded) stream.end();
    });
  }
  const err = failure() ?? stream.errored;
  if (err) throw err;
  if (!stream.writableFinished) throw new Error('blob stream was destroyed before it finished');
}
