import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { SqliteDatabase } from '../../metadata/sqlite/database.js';
import { assertBlobId, assertBlobRange, BlobNotFoundError, BlobRange, BlobStore, BlobWriter, finishedBody } from '../blob-store.js';

/**
 * Small blobs as rows of the metadata database (table small_blobs, migration 008). A file per blob costs
 * an open, a write, two fsyncs (file and directory) and a rename; a row costs its share of one grouped
 * commit (SqliteDatabase.grouped), which is what makes many small PUTs cheap. Bodies are buffered in
 * memory until commit, so only blobs up to `maxBytes` are accepted (the tiered store sends only those).
 */
export class SqliteBlobStore implements BlobStore {
  constructor(
    private readonly database: SqliteDatabase,
    readonly maxBytes: number,
  ) {}

  async create(): Promise<BlobWriter> {
    const id = randomUUID();
    const chunks: Buffer[] = [];
    let size = 0;
    const max = this.maxBytes;
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > max) return done(new RangeError(`a small blob holds at most ${max} bytes`));
        chunks.push(chunk);
        done();
      },
    });
    let failure: Error | undefined;
    stream.on('error', (err) => (failure ??= err));
    let outcome: Promise<void> | undefined;
    let aborted = false;
    return {
      id,
      stream,
      commit: () =>
        (outcome ??= (async () => {
          if (aborted) throw new Error('blob writer was aborted');
          await finishedBody(stream, () => failure);
          const data = Buffer.concat(chunks, size);
          // Not awaited to disk here: a blob is unreachable until the metadata naming it commits, after it in
          // the WAL, and that commit's sync covers this one too.
          await this.database.grouped(() => this.database.stmt('INSERT INTO small_blobs (id, data) VALUES (?, ?)').run(id, data), { durable: false });
        })()),
      abort: async () => {
        if (outcome) {
          // Committed (or committing): abort is a no-op after a successful commit.
          await outcome.catch(() => undefined);
          return;
        }
        aborted = true;
        chunks.length = 0;
        stream.destroy();
      },
    };
  }

  read(id: string, range?: BlobRange): Readable {
    return this.readIfHeld(id, range) ?? failed(new BlobNotFoundError(id));
  }

  /**
   * The blob's bytes when this store holds it, else undefined: one lookup for the tiered store, which
   * then asks the files.
   */
  readIfHeld(id: string, range?: BlobRange): Readable | undefined {
    assertBlobId(id);
    assertBlobRange(range);
    const row = this.database.stmt('SELECT data FROM small_blobs WHERE id = ?').get(id) as { data: Buffer } | undefined;
    if (!row) return undefined;
    if (!range) return Readable.from([row.data], { objectMode: false });
    if (range.end >= row.data.length) return failed(new RangeError(`range ${range.start}-${range.end} reaches past the blob's ${row.data.length} bytes`));
    return Readable.from([row.data.subarray(range.start, range.end + 1)], { objectMode: false });
  }

  /** Whether this store holds `id` (the tiered store asks before it asks the files). */
  has(id: string): boolean {
    return this.database.stmt('SELECT 1 FROM small_blobs WHERE id = ?').get(id) !== undefined;
  }

  async size(id: string): Promise<number> {
    assertBlobId(id);
    const row = this.database.stmt('SELECT length(data) AS n FROM small_blobs WHERE id = ?').get(id) as { n: number } | undefined;
    if (!row) throw new BlobNotFoundError(id);
    return row.n;
  }

  async delete(id: string): Promise<void> {
    assertBlobId(id);
    this.database.stmt('DELETE FROM small_blobs WHERE id = ?').run(id);
  }

  async *list(): AsyncIterable<string> {
    for (const row of this.database.stmt('SELECT id FROM small_blobs').iterate() as IterableIterator<{ id: string }>) yield row.id;
  }

  /** Nothing is ever half-written: a row is inserted whole in a transaction, or not at all. */
  async sweepIncomplete(): Promise<number> {
    return 0;
  }
}

function failed(err: Error): Readable {
  const r = new Readable({ read() {} });
  process.nextTick(() => r.destroy(err));
  return r;
}
