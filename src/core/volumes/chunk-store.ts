import { BlobStore, readBlobBytes } from '../../store/blob/blob-store.js';
import { ChunkRef, VolumeStore } from '../../store/metadata/volume-types.js';
import { CHUNK_BYTES, RECORD_BYTES, freshNonces, openChunk, sealChunk } from './chunks.js';

/** At most this many chunk records per segment blob (16 MiB of data): what one flush of many writes becomes. */
export const MAX_SEGMENT_CHUNKS = 256;

/**
 * Records read in one blob read at most (1 MiB of data, a typical NBD read): into a buffer lent from a pool and
 * given back once its records are opened. Every large Buffer is external memory to V8, and each 64 MiB of it
 * allocated starts a major GC — at disk speeds that was a quarter of the server's CPU.
 */
const READ_RUN_CHUNKS = 16;
const POOLED_READ_BUFFERS = 8;
/**
 * One-record read buffers kept (4 MiB): small random reads and read-modify-writes read one record each, many at
 * once (a 4 KiB random writer at queue depth 16 prefetches 16 bases), and took — and threw away — a 1 MiB run
 * buffer each once the 8 were lent out.
 */
const POOLED_RECORD_BUFFERS = 64;

/** A chunk whose record does not authenticate: tampered, moved, swapped or rolled back. */
export class ChunkIntegrityError extends Error {
  override readonly name = 'ChunkIntegrityError';
  constructor(ownerId: string, index: number) {
    super(`chunk ${index} of ${ownerId} failed authentication (tampered, moved or rolled back)`);
  }
}

export interface SealedChunk {
  readonly index: number;
  readonly plaintext: Buffer;
}

/**
 * The chunk contents of volumes and snapshots, as segment blobs of the blob store: a segment is the records
 * of one flush (up to MAX_SEGMENT_CHUNKS, 16 MiB of data), written once, never modified — a rewrite of a
 * chunk goes to a new segment (copy-on-write), so a snapshot keeps the records it references. The blob store
 * is the deployment's (files and SQLite, or PostgreSQL), so every node sharing the database reads the same
 * blocks. A segment no chunk references any more is deleted (collect).
 */
export class ChunkStore {
  /** Read buffers (READ_RUN_CHUNKS records) not lent out at the moment. */
  readonly #readBuffers: Buffer[] = [];
  /** One-record read buffers not lent out at the moment. */
  readonly #recordBuffers: Buffer[] = [];

  constructor(
    readonly store: VolumeStore,
    private readonly blobs: BlobStore,
    /** Resolves once every committed metadata write is durable (Stores.durable). */
    readonly durable: () => Promise<void>,
  ) {}

  /**
   * Seals `chunks` for `ownerId` under `dataKey` into new segments (fresh generations reserved first) and
   * returns their references, not yet committed to the chunk map (commitChunks does that). `durable: false`:
   * the segments are not yet known to be on disk — sync() them before committing references to them.
   */
  async writeSegments(
    ownerId: string,
    dataKey: Buffer,
    chunks: readonly SealedChunk[],
    generations: () => Promise<number>,
    options: { durable?: boolean } = {},
  ): Promise<ChunkRef[]> {
    const refs: ChunkRef[] = [];
    for (let start = 0; start < chunks.length; start += MAX_SEGMENT_CHUNKS) {
      const part = chunks.slice(start, start + MAX_SEGMENT_CHUNKS);
      const nonces = freshNonces(part.length);
      const gens: number[] = [];
      // The records as pieces (nonce, ciphertext, tag each), written gathered: no copy into one segment buffer.
      const pieces: Buffer[] = [];
      for (let i = 0; i < part.length; i++) {
        const generation = await generations();
        gens.push(generation);
        pieces.push(...sealChunk(dataKey, { boundTo: ownerId, index: part[i]!.index, generation }, part[i]!.plaintext, nonces[i]!));
      }
      const writer = await this.blobs.create(part.length * RECORD_BYTES);
      try {
        await this.store.addSegment(writer.id, ownerId);
        writer.stream.cork();
        for (const piece of pieces) writer.stream.write(piece);
        writer.stream.uncork();
        await writer.commit(options);
      } catch (err) {
        await writer.abort().catch(() => undefined);
        throw err;
      }
      part.forEach((c, i) => refs.push({ index: c.index, blobId: writer.id, slot: i, generation: gens[i]!, boundTo: ownerId }));
    }
    return refs;
  }

  /**
   * The records of refs, those that follow each other in one segment read in one range read each (up to
   * READ_RUN_CHUNKS), into read buffers lent from the pool: each is pushed to `lent`, to be given back (giveBack)
   * once the records are no longer needed.
   */
  async #readRecords(refs: readonly ChunkRef[], lent: Buffer[]): Promise<Buffer[]> {
    const out: Buffer[] = [];
    let i = 0;
    while (i < refs.length) {
      let j = i + 1;
      while (j < refs.length && j - i < READ_RUN_CHUNKS && refs[j]!.blobId === refs[i]!.blobId && refs[j]!.slot === refs[j - 1]!.slot + 1) j++;
      const first = refs[i]!;
      const start = first.slot * RECORD_BYTES;
      const length = (j - i) * RECORD_BYTES;
      const into = j - i === 1 ? (this.#recordBuffers.pop() ?? Buffer.allocUnsafe(RECORD_BYTES)) : (this.#readBuffers.pop() ?? Buffer.allocUnsafe(READ_RUN_CHUNKS * RECORD_BYTES));
      lent.push(into);
      const bytes = await readBlobBytes(this.blobs, first.blobId, start, length, into);
      for (let k = 0; k < j - i; k++) out.push(bytes.subarray(k * RECORD_BYTES, (k + 1) * RECORD_BYTES));
      i = j;
    }
    return out;
  }

  /** The plaintexts of `refs` (one owner's chunks), checked against their bindings; each a buffer of its own. */
  async readChunks(ownerId: string, dataKey: Buffer, refs: readonly ChunkRef[]): Promise<Buffer[]> {
    const lent: Buffer[] = [];
    try {
      const records = await this.#readRecords(refs, lent);
      return records.map((record, i) => {
        const ref = refs[i]!;
        const plain = openChunk(dataKey, ref, record);
        if (!plain) throw new ChunkIntegrityError(ownerId, ref.index);
        return plain;
      });
    } finally {
      // Ciphertext only: given back as it is.
      for (const b of lent) {
        if (b.length === RECORD_BYTES) {
          if (this.#recordBuffers.length < POOLED_RECORD_BUFFERS) this.#recordBuffers.push(b);
        } else if (this.#readBuffers.length < POOLED_READ_BUFFERS) this.#readBuffers.push(b);
      }
    }
  }

  /**
   * Re-seals every chunk of `fromOwner` (under `fromKey`) for `toOwner` under `toKey` (CopySnapshot to
   * another key, a volume re-keyed from a snapshot), a segment at a time, and commits them to toOwner's map.
   */
  async reseal(fromOwner: string, fromKey: Buffer, toOwner: string, toKey: Buffer): Promise<void> {
    const refs = await this.store.chunks(fromOwner);
    let next = 0;
    let end = 0;
    const generations = async () => {
      if (next === end) {
        next = await this.store.reserveGenerations(toOwner, MAX_SEGMENT_CHUNKS);
        end = next + MAX_SEGMENT_CHUNKS;
      }
      return next++;
    };
    for (let start = 0; start < refs.length; start += MAX_SEGMENT_CHUNKS) {
      const part = refs.slice(start, start + MAX_SEGMENT_CHUNKS);
      const plains = await this.readChunks(fromOwner, fromKey, part);
      const sealed = await this.writeSegments(toOwner, toKey, part.map((r, i) => ({ index: r.index, plaintext: plains[i]! })), generations);
      for (const p of plains) p.fill(0);
      await this.store.commitChunks(toOwner, sealed, []);
    }
    await this.durable();
  }

  /** Makes segments written with `durable: false` durable. */
  async sync(blobIds: readonly string[]): Promise<void> {
    if (blobIds.length > 0 && this.blobs.sync) await this.blobs.sync(blobIds);
  }

  /** Deletes the segments among `blobIds` that nothing references any more; returns those still referenced. */
  async collect(blobIds: Iterable<string>): Promise<string[]> {
    const kept: string[] = [];
    for (const id of blobIds) {
      if (await this.store.dropSegmentIfUnreferenced(id)) await this.blobs.delete(id);
      else kept.push(id);
    }
    return kept;
  }
}

/** A zero-filled chunk (what an unwritten chunk reads as). */
export function zeroChunk(): Buffer {
  return Buffer.alloc(CHUNK_BYTES);
}

