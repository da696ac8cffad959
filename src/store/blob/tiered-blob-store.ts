import { Readable } from 'node:stream';
import { BlobRange, BlobStore, BlobWriter } from './blob-store.js';
import { SqliteBlobStore } from './sqlite/sqlite-blob-store.js';

/**
 * Small blobs in the database, the rest in files: `create(sizeHint)` sends a blob whose size is known to
 * fit to the small store. Ids are UUIDs in both, so a reader asks the small store (one indexed lookup)
 * and then the files.
 */
export class TieredBlobStore implements BlobStore {
  constructor(
    private readonly small: SqliteBlobStore,
    private readonly large: BlobStore,
  ) {}

  create(sizeHint?: number): Promise<BlobWriter> {
    return sizeHint !== undefined && sizeHint <= this.small.maxBytes ? this.small.create() : this.large.create();
  }

  read(id: string, range?: BlobRange): Readable {
    return this.small.readIfHeld(id, range) ?? this.large.read(id, range);
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
