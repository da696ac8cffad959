import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { BlobRange, BlobStore, BlobWriter, readBlobBytes } from './blob-store.js';

/** A store of small blobs that says synchronously whether it holds one (the SQLite blob table). */
export interface SmallBlobStore extends BlobStore {
  /** The largest blob it takes. */
  readonly maxBytes: number;
  has(id: string): boolean;
  /** A reader of the blob if this store holds it, else undefined (the large store is asked next). */
  readIfHeld(id: string, range?: BlobRange): Readable | undefined;
}

/**
 * Small blobs in the database, the rest in files: `create(sizeHint)` sends a blob whose size is known to
 * fit to the small store. Ids are UUIDs in both, so a reader asks the small store (one indexed lookup)
 * and then the files.
 */
export class TieredBlobStore implements BlobStore {
  constructor(
    private readonly small: SmallBlobStore,
    private readonly large: BlobStore,
  ) {}

  create(sizeHint?: number): Promise<BlobWriter> {
    return sizeHint !== undefined && sizeHint <= this.small.maxBytes ? this.small.create() : this.large.create();
  }

  read(id: string, range?: BlobRange): Readable {
    return this.small.readIfHeld(id, range) ?? this.large.read(id, range);
  }

  async readBytes(id: string, start: number, length: number, into?: Buffer): Promise<Buffer> {
    const small = this.small.readIfHeld(id, { start, end: start + length - 1 });
    if (small) return buffer(small);
    return readBlobBytes(this.large, id, start, length, into);
  }

  async sync(ids: readonly string[]): Promise<void> {
    const large = ids.filter((id) => !this.small.has(id));
    if (large.length > 0 && this.large.sync) await this.large.sync(large);
  }

  size(id: string): Promise<number> {
    return this.small.has(id) ? this.small.size(id) : this.large.size(id);
  }

  async delete(id: string): Promise<void> {
    await this.small.delete(id);
    await this.large.delete(id);
  }

  async *list(): AsyncIterable<string> {
    yield* this.small.list();
    yield* this.large.list();
  }

  async sweepIncomplete(): Promise<number> {
    return (await this.small.sweepIncomplete()) + (await this.large.sweepIncomplete());
  }
}

