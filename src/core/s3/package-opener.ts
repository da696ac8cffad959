import { KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  HEADER_BYTES,
  importKey,
  openPackage,
  PACKAGE_BYTES,
  PackageKey,
  packageCount,
  packageOffset,
  packagePlainBytes,
  parseHeader,
  TAG_BYTES,
} from './package-format.js';
import { SealedDataError } from './sealed-data-error.js';

/** A plaintext byte range, both ends inclusive (as in HTTP Range, RFC 9110 §14.1.2). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Reads sealed bytes [sealedStart, sealedEnd], both inclusive, of the object being opened: typically
 * `(s, e) => blobs.read(blobId, { start: s, end: e })`.
 */
export type SealedReader = (sealedStart: number, sealedEnd: number) => Readable;

/**
 * The plaintext bytes [range.start, range.end] of an object of plainLength bytes (the whole object when
 * range is omitted; an empty object has no range but opens whole, authenticating its one empty package).
 *
 * Only the header and the packages the range touches are read (at most two calls to `read`: the header,
 * then the packages; one when the range starts in package 0). Each package is authenticated before any of
 * its bytes is emitted, so a consumer never sees plaintext from a bad package: the stream is destroyed with
 * SealedDataError instead. Errors of the reader itself (a missing blob, an I/O error) pass through as they are.
 *
 * plainLength comes from the object's metadata; it decides which package must carry the final flag, so a
 * sealed stream cut at a package boundary, or extended by packages, fails to open.
 */
/**
 * How far opening may run ahead of the consumer: reading and decrypting the next packages while earlier
 * ones are still being written to the socket (with the default 16 KiB, disk, cipher and socket took turns).
 */
const READ_AHEAD_BYTES = 1024 * 1024;

export function openRange(key: PackageKey, binding: Buffer, plainLength: number, range: ByteRange | undefined, read: SealedReader): Readable {
  const count = packageCount(plainLength);
  const { start, end } = range ?? { start: 0, end: plainLength - 1 };
  if (range !== undefined) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end >= plainLength) {
      throw new RangeError(`range ${start}-${end} is not within an object of ${plainLength} bytes`);
    }
  }
  const first = Math.floor(start / PACKAGE_BYTES);
  const last = range === undefined ? count - 1 : Math.floor(end / PACKAGE_BYTES);
  const job: OpenJob = { key: importKey(key), binding, plainLength, count, first, last, start, end, read };
  return Readable.from(openPackages(job), { objectMode: false, highWaterMark: READ_AHEAD_BYTES });
}

interface OpenJob {
  readonly key: KeyObject;
  readonly binding: Buffer;
  readonly plainLength: number;
  readonly count: number;
  readonly first: number;
  readonly last: number;
  readonly start: number;
  readonly end: number;
  readonly read: SealedReader;
}

async function* openPackages(job: OpenJob): AsyncGenerator<Buffer> {
  const lastEnd = packageOffset(job.last) + packagePlainBytes(job.last, job.plainLength) + TAG_BYTES - 1;
  let source = new ExactReader(job.read(0, job.first === 0 ? lastEnd : HEADER_BYTES - 1));
  try {
    const header = await source.take(HEADER_BYTES);
    const streamNonce = parseHeader(header);
    const aadPrefix = Buffer.concat([header, job.binding]);
    if (job.first > 0) {
      await source.expectEnd();
      source = new ExactReader(job.read(packageOffset(job.first), lastEnd));
    }
    for (let i = job.first; i <= job.last; i++) {
      const want = packagePlainBytes(i, job.plainLength) + TAG_BYTES;
      const sealed = await source.take(want);
      if (sealed.length !== want) throw new SealedDataError('truncated', `the sealed object ends inside package ${i}`);
      const plain = openPackage(job.key, streamNonce, aadPrefix, i, i === job.count - 1, sealed);
      const base = i * PACKAGE_BYTES;
      const from = Math.max(job.start, base) - base;
      const to = Math.min(job.end + 1, base + plain.length) - base;
      // An empty Buffer would stall a byte-mode Readable; the empty object's package yields nothing.
      if (to > from) yield plain.subarray(from, to);
    }
    await source.expectEnd();
  } finally {
    source.close();
  }
}

/** Pulls exact byte counts out of a Readable, whatever its chunking; holds at most one request's worth. */
class ExactReader {
  readonly #stream: Readable;
  readonly #chunks: AsyncIterator<Buffer>;
  #rest: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(stream: Readable) {
    this.#stream = stream;
    this.#chunks = stream[Symbol.asyncIterator]();
  }

  /** Exactly n bytes, or fewer when the stream ends first. */
  async take(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      if (this.#rest.length === 0) {
        const chunk = await this.#next();
        if (chunk === undefined) break;
        this.#rest = chunk;
      }
      const part = this.#rest.subarray(0, n - have);
      this.#rest = this.#rest.subarray(part.length);
      parts.push(part);
      have += part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
  }

  /** A reader that returns more than was asked for is handing us bytes that are not part of this object. */
  async expectEnd(): Promise<void> {
    if (this.#rest.length > 0 || (await this.#next()) !== undefined) {
      throw new SealedDataError('extended', 'the sealed object is longer than its recorded size');
    }
  }

  close(): void {
    if (!this.#stream.destroyed) this.#stream.destroy();
  }

  async #next(): Promise<Buffer | undefined> {
    while (!this.#done) {
      const r = await this.#chunks.next();
      if (r.done) {
        this.#done = true;
        break;
      }
      const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      if (chunk.length > 0) return chunk;
    }
    return undefined;
  }
}
