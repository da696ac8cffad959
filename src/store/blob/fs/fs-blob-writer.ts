import { FileHandle, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BlobWriter } from '../blob-store.js';
import { ensureDir, fsyncDir, writeAll, writevAll } from './durable-fs.js';

const HIGH_WATER_MARK = 256 * 1024;

/** Bytes into an open file; fsynced when the stream finishes (unless told not to), so 'finish' means the data is on disk. */
class FileSink extends Writable {
  readonly #handle: FileHandle;
  /** Whether finishing fsyncs the file (a commit with durable: false leaves it to FsBlobStore.sync). */
  syncOnFinish = true;

  constructor(handle: FileHandle) {
    super({ highWaterMark: HIGH_WATER_MARK });
    this.#handle = handle;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    writeAll(this.#handle, chunk).then(() => done(), (err: Error) => done(err));
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    // Gathered (one writev for many pieces), not concatenated into one buffer first.
    writevAll(this.#handle, chunks.map((c) => c.chunk)).then(() => done(), (err: Error) => done(err));
  }

  override _final(done: (err?: Error | null) => void): void {
    if (!this.syncOnFinish) return done();
    this.#handle.sync().then(() => done(), (err: Error) => done(err));
  }
}

/**
 * One blob being written to <blobs>/.incoming/<id>. Commit: finish (write + fsync the file), close, rename to
 * <blobs>/<2 hex>/<id>, fsync that directory: after a crash the blob is either wholly there or only in
 * .incoming, where sweepIncomplete finds it. The rename is atomic, so readers never see a partial blob.
 * With `durable: false` neither fsync runs (FsBlobStore.sync does both later): after a crash the blob may be
 * missing or short — its writer records it as durable only after sync.
 */
export class FsBlobWriter implements BlobWriter {
  readonly id: string;
  readonly stream: Writable;
  readonly #sink: FileSink;
  readonly #handle: FileHandle;
  readonly #incomingPath: string;
  readonly #finalPath: string;
  readonly #blobsDir: string;
  readonly #settled: () => void;
  #commit: Promise<void> | undefined;
  #aborted = false;
  #closed = false;

  constructor(opts: { id: string; handle: FileHandle; incomingPath: string; finalPath: string; blobsDir: string; settled: () => void }) {
    this.id = opts.id;
    this.#handle = opts.handle;
    this.#incomingPath = opts.incomingPath;
    this.#finalPath = opts.finalPath;
    this.#blobsDir = opts.blobsDir;
    this.#settled = opts.settled;
    this.stream = this.#sink = new FileSink(opts.handle);
  }

  commit(options: { durable?: boolean } = {}): Promise<void> {
    if (this.#aborted) return Promise.reject(new Error(`blob ${this.id} was aborted`));
    this.#commit ??= this.#publish(options.durable !== false);
    return this.#commit;
  }

  async abort(): Promise<void> {
    if (this.#commit !== undefined) {
      // A commit in flight or done wins; a failed commit has already cleaned up.
      await this.#commit.catch(() => undefined);
      return;
    }
    if (this.#aborted) return;
    this.#aborted = true;
    await this.#discard();
  }

  async #publish(durable: boolean): Promise<void> {
    try {
      if (!this.stream.writableEnded) {
        this.#sink.syncOnFinish = durable;
        this.stream.end();
      }
      await finished(this.stream, { readable: false });
      await this.#close();
      const shardDir = dirname(this.#finalPath);
      await ensureDir(shardDir, this.#blobsDir);
      await rename(this.#incomingPath, this.#finalPath);
      if (durable) await fsyncDir(shardDir);
      this.#settled();
    } catch (err) {
      // Nothing half-done stays behind. (Should only the directory fsync have failed, the blob is in place
      // but not known to be durable; the caller records no metadata for it, and garbage collection removes it.)
      await this.#discard();
      throw err;
    }
  }

  async #discard(): Promise<void> {
    if (!this.stream.destroyed) this.stream.destroy();
    await this.#close().catch(() => undefined);
    await unlink(this.#incomingPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    this.#settled();
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close();
  }
}
