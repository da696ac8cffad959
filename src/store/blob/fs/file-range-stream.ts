import { FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BlobNotFoundError, BlobRange } from '../blob-store.js';

const CHUNK_BYTES = 256 * 1024;

/**
 * Reads bytes [start, end] of one blob file. The file is opened when the stream is constructed, so a
 * missing blob becomes BlobNotFoundError on the stream, and the bytes read are those of the file as it was
 * opened: a blob deleted (unlinked) meanwhile still reads to its end, as POSIX keeps it for open handles.
 */
export class FileRangeStream extends Readable {
  readonly #path: string;
  readonly #id: string;
  readonly #range: BlobRange | undefined;
  #handle: FileHandle | undefined;
  #position = 0;
  #end = -1; // inclusive; -1 with position 0: nothing to read

  constructor(path: string, id: string, range: BlobRange | undefined) {
    super({ highWaterMark: CHUNK_BYTES });
    this.#path = path;
    this.#id = id;
    this.#range = range;
  }

  override _construct(done: (err?: Error | null) => void): void {
    this.#open().then(() => done(), (err: Error) => done(err));
  }

  async #open(): Promise<void> {
    try {
      this.#handle = await open(this.#path, 'r');
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? new BlobNotFoundError(this.#id) : err;
    }
    const { size } = await this.#handle.stat();
    if (this.#range === undefined) {
      this.#end = size - 1;
    } else if (this.#range.end >= size) {
      throw new RangeError(`range ${this.#range.start}-${this.#range.end} reaches past the end of blob ${this.#id} (${size} bytes)`);
    } else {
      this.#position = this.#range.start;
      this.#end = this.#range.end;
    }
  }

  override _read(want: number): void {
    const remaining = this.#end - this.#position + 1;
    if (remaining <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(Math.min(Math.max(want, CHUNK_BYTES), remaining));
    this.#handle!.read(buf, 0, buf.length, this.#position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          this.destroy(new Error(`blob ${this.#id} ended early while being read`));
          return;
        }
        this.#position += bytesRead;
        this.push(buf.subarray(0, bytesRead));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle === undefined) done(err);
    else handle.close().then(() => done(err), (closeErr: Error) => done(err ?? closeErr));
  }
}
