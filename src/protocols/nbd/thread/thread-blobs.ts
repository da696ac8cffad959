import { Readable, Writable } from 'node:stream';
import { BlobNotFoundError, BlobRange, BlobStore, BlobWriter } from '../../../store/blob/blob-store.js';
import { FsBlobStore } from '../../../store/blob/fs/fs-blob-store.js';
import { Rpc } from './rpc.js';

/**
 * The blob store as the NBD thread sees it. With the deployment's blobs in files (SQLite deployments) the
 * thread reads and writes segment files itself — the bytes never cross into the main thread, whose heap would
 * otherwise pay for them in garbage collection — and asks the main thread only for a blob not in a file (a
 * small segment an older version kept in SQLite). With PostgreSQL every call goes to the main thread's store.
 */
export class ThreadBlobStore implements BlobStore {
  constructor(
    private readonly files: FsBlobStore | undefined,
    private readonly rpc: Rpc,
  ) {}

  async create(sizeHint?: number): Promise<BlobWriter> {
    // Segments always go to files here (a sizeHint would send small ones to SQLite, in the main thread).
    if (this.files) return this.files.create();
    const id = await this.rpc.call<string>('blob.create', sizeHint);
    return new RemoteBlobWriter(id, this.rpc);
  }

  read(id: string, range?: BlobRange): Readable {
    if (!range) throw new RangeError('the NBD thread reads blobs by range only');
    const start = range.start;
    const length = range.end - range.start + 1;
    return Readable.from((async function* (store: ThreadBlobStore) {
      yield await store.readBytes(id, start, length);
    })(this));
  }

  async readBytes(id: string, start: number, length: number, into?: Buffer): Promise<Buffer> {
    if (this.files) {
      try {
        return await this.files.readBytes(id, start, length, into);
      } catch (err) {
        if (!(err instanceof BlobNotFoundError)) throw err;
      }
    }
    return Buffer.from(await this.rpc.call<Uint8Array>('blob.readBytes', id, start, length));
  }

  async sync(ids: readonly string[]): Promise<void> {
    if (this.files) await this.files.sync(ids);
    else await this.rpc.call('blob.sync', ids);
  }

  size(id: string): Promise<number> {
    return this.rpc.call<number>('blob.size', id);
  }

  async delete(id: string): Promise<void> {
    // Here first (closes this thread's read handle of it), then the main thread's store (SQLite too).
    await this.files?.delete(id);
    await this.rpc.call('blob.delete', id);
  }

  async *list(): AsyncIterable<string> {
    throw new Error('the NBD thread does not list blobs');
  }

  async sweepIncomplete(): Promise<number> {
    return 0;
  }
}

/** A blob written through the main thread's store (PostgreSQL): the bytes are sent at commit. */
class RemoteBlobWriter implements BlobWriter {
  readonly stream: Writable;
  readonly #pieces: Buffer[] = [];
  #outcome: Promise<void> | undefined;

  constructor(
    readonly id: string,
    private readonly rpc: Rpc,
  ) {
    this.stream = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.#pieces.push(chunk);
        done();
      },
    });
  }

  commit(options: { durable?: boolean } = {}): Promise<void> {
    this.#outcome ??= (async () => {
      if (!this.stream.writableEnded) this.stream.end();
      const bytes = Buffer.concat(this.#pieces);
      this.#pieces.length = 0;
      await this.rpc.call('blob.commit', this.id, bytes, options);
    })();
    return this.#outcome;
  }

  async abort(): Promise<void> {
    if (this.#outcome) return void (await this.#outcome.catch(() => undefined));
    this.#pieces.length = 0;
    await this.rpc.call('blob.abort', this.id);
  }
}
