import { randomUUID } from 'node:crypto';
import { FileHandle, chmod, mkdir, open, opendir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { assertBlobId, assertBlobRange, BlobNotFoundError, BlobRange, BlobStore, BlobWriter, isBlobId } from '../blob-store.js';
import { FileRangeStream } from './file-range-stream.js';
import { fsyncDir } from './durable-fs.js';
import { FsBlobWriter } from './fs-blob-writer.js';

export const BLOBS_DIR = 'blobs';
export const INCOMING_DIR = '.incoming';
const SHARD = /^[0-9a-f]{2}$/;
/** Read handles readBytes keeps open. */
const OPEN_HANDLES = 64;

export interface FsBlobStoreOptions {
  /** A file in .incoming not written for this long is taken for a dead writer's (default 1 h). */
  readonly staleAfterMs?: number;
  /** ms since the epoch, compared with the files' mtimes. */
  readonly now?: () => number;
}

/**
 * Blobs as files on the local file system:
 *
 *   <dataDir>/blobs/               0700
 *   <dataDir>/blobs/.incoming/<id> 0600  being written (invisible: read, size and list look only in shards)
 *   <dataDir>/blobs/<ab>/<id>      0600  committed; <ab> = the id's first two hex digits, 256 directories
 *                                        at most, so no directory grows past what file systems list quickly
 *
 * Every path is built from a store-made UUID that was checked against a strict pattern, never from user input.
 * Deletes are not fsynced: the metadata store decides what exists, and a blob whose unlink a crash undid is
 * found by garbage collection (list() against the metadata).
 */
export class FsBlobStore implements BlobStore {
  readonly #blobsDir: string;
  readonly #incomingDir: string;
  /** Ids of this store's writers not yet committed or aborted; sweepIncomplete leaves them be. */
  readonly #live = new Set<string>();
  /** Open read handles of committed blobs, least recently used first (readBytes). */
  readonly #handles = new Map<string, { handle: FileHandle; users: number; dropped: boolean }>();
  readonly #staleAfterMs: number;
  readonly #now: () => number;

  private constructor(dataDir: string, options: FsBlobStoreOptions) {
    this.#blobsDir = join(dataDir, BLOBS_DIR);
    this.#incomingDir = join(this.#blobsDir, INCOMING_DIR);
    this.#staleAfterMs = options.staleAfterMs ?? 60 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Opens (making if needed) the blob directories in dataDir. */
  static async open(dataDir: string, options: FsBlobStoreOptions = {}): Promise<FsBlobStore> {
    const store = new FsBlobStore(dataDir, options);
    await mkdir(store.#incomingDir, { recursive: true, mode: 0o700 });
    // mkdir's mode applies only to directories it makes; these two are ours alone whatever made them.
    await chmod(store.#blobsDir, 0o700);
    await chmod(store.#incomingDir, 0o700);
    return store;
  }

  async create(): Promise<BlobWriter> {
    const id = randomUUID();
    const incomingPath = join(this.#incomingDir, id);
    // Marked live before the file exists, so a concurrent sweep can never take it.
    this.#live.add(id);
    let handle;
    try {
      // 'wx': never reuse or follow an existing entry.
      handle = await open(incomingPath, 'wx', 0o600);
    } catch (err) {
      this.#live.delete(id);
      throw err;
    }
    return new FsBlobWriter({
      id,
      handle,
      incomingPath,
      finalPath: this.#pathOf(id),
      blobsDir: this.#blobsDir,
      settled: () => this.#live.delete(id),
    });
  }

  read(id: string, range?: BlobRange): Readable {
    assertBlobId(id);
    assertBlobRange(range);
    return new FileRangeStream(this.#pathOf(id), id, range);
  }

  async readBytes(id: string, start: number, length: number, into?: Buffer): Promise<Buffer> {
    assertBlobId(id);
    assertBlobRange({ start, end: start + length - 1 });
    const entry = await this.#handle(id);
    entry.users++;
    try {
      const out = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await entry.handle.read(out, done, length - done, start + done);
        if (bytesRead === 0) throw new RangeError(`range ${start}-${start + length - 1} reaches past the end of blob ${id}`);
        done += bytesRead;
      }
      return out;
    } finally {
      entry.users--;
      if (entry.users === 0 && entry.dropped) await entry.handle.close().catch(() => undefined);
    }
  }

  /**
   * An open handle of a committed blob, from a small LRU (readBytes' callers read many small ranges of the same
   * blobs: an open and a close per read would cost more than the read). Committed blobs never change, and a
   * handle of a blob deleted meanwhile still reads it, as an opened stream does.
   */
  async #handle(id: string): Promise<{ handle: FileHandle; users: number; dropped: boolean }> {
    const hit = this.#handles.get(id);
    if (hit) {
      this.#handles.delete(id);
      this.#handles.set(id, hit);
      return hit;
    }
    let handle: FileHandle;
    try {
      handle = await open(this.#pathOf(id), 'r');
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? new BlobNotFoundError(id) : err;
    }
    const raced = this.#handles.get(id);
    if (raced) {
      await handle.close();
      return raced;
    }
    const entry = { handle, users: 0, dropped: false };
    this.#handles.set(id, entry);
    if (this.#handles.size > OPEN_HANDLES) this.#drop(this.#handles.keys().next().value as string);
    return entry;
  }

  #drop(id: string): void {
    const entry = this.#handles.get(id);
    if (!entry) return;
    this.#handles.delete(id);
    entry.dropped = true;
    if (entry.users === 0) void entry.handle.close().catch(() => undefined);
  }

  /** fsyncs each blob's file, then each directory they were renamed into (FsBlobWriter's commit with durable: false). */
  async sync(ids: readonly string[]): Promise<void> {
    for (const id of ids) assertBlobId(id);
    await Promise.all(
      ids.map(async (id) => {
        let handle: FileHandle;
        try {
          handle = await open(this.#pathOf(id), 'r');
        } catch (err) {
          throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? new BlobNotFoundError(id) : err;
        }
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
    );
    await Promise.all([...new Set(ids.map((id) => dirname(this.#pathOf(id))))].map((dir) => fsyncDir(dir)));
  }

  async size(id: string): Promise<number> {
    assertBlobId(id);
    try {
      return (await stat(this.#pathOf(id))).size;
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? new BlobNotFoundError(id) : err;
    }
  }

  async delete(id: string): Promise<void> {
    assertBlobId(id);
    this.#drop(id);
    try {
      await unlink(this.#pathOf(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async *list(): AsyncIterable<string> {
    // opendir streams entries, so listing millions of blobs holds one shard's cursor, not the names.
    for await (const shard of await opendir(this.#blobsDir)) {
      if (!shard.isDirectory() || !SHARD.test(shard.name)) continue;
      for await (const entry of await opendir(join(this.#blobsDir, shard.name))) {
        if (entry.isFile() && isBlobId(entry.name) && entry.name.startsWith(shard.name)) yield entry.name;
      }
    }
  }

  /**
   * Removes what writers that died left in .incoming: files not written for staleAfterMs. Other processes on
   * the data dir (`--workers`) write there too, and their live writers are not in this store's #live: a file
   * written to recently may be one of theirs (a writer whose client sends nothing for the body idle timeout,
   * 20 s by default, is aborted long before it could look stale).
   */
  async sweepIncomplete(): Promise<number> {
    let removed = 0;
    const staleBefore = this.#now() - this.#staleAfterMs;
    for await (const entry of await opendir(this.#incomingDir)) {
      if (this.#live.has(entry.name) || entry.isDirectory()) continue;
      const path = join(this.#incomingDir, entry.name);
      try {
        if ((await stat(path)).mtimeMs > staleBefore) continue;
        await unlink(path);
        removed++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return removed;
  }

  #pathOf(id: string): string {
    return join(this.#blobsDir, id.slice(0, 2), id);
  }
}
