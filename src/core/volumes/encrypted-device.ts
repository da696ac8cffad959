import { SecretBytes } from '../crypto/secret-bytes.js';
import { ChunkRef } from '../../store/metadata/volume-types.js';
import { BlockDevice, VolumeIoError } from './block-device.js';
import { ChunkIntegrityError, ChunkStore, MAX_SEGMENT_CHUNKS, zeroChunk } from './chunk-store.js';
import { CHUNK_BYTES } from './chunks.js';

const zeroFill = (chunk: Buffer, at: number, from: number, to: number) => void chunk.fill(0, at, at + (to - from));

/** Decrypted clean chunks kept for reads and read-modify-writes (16 MiB). */
const CLEAN_CACHE_CHUNKS = 256;
/** Generations reserved per metadata round trip. */
const GENERATION_BATCH = 1024;

export interface EncryptedDeviceOptions {
  readonly volumeId: string;
  readonly size: number;
  readonly dataKey: SecretBytes;
  readonly chunks: ChunkStore;
  /** The volume's chunk map as committed (index → reference). */
  readonly map: Map<number, ChunkRef>;
  /** Why the device may no longer be used (CMK disabled or deleted, grant revoked, volume detached, lease lost), or undefined. */
  readonly unusable: () => Promise<string | undefined>;
  /** How often `unusable` is asked, at most (ms). */
  readonly checkEveryMs: number;
  /** Called once when the device closes (releases the open claim). */
  readonly closed: () => Promise<void>;
}

/**
 * A volume opened for I/O (the BlockDevice the NBD server serves). Writes land in memory as whole 64 KiB
 * chunks (read-modify-write for partial ones) and are sealed into one segment per flush — or earlier, when
 * MAX_SEGMENT_CHUNKS are dirty — then the chunk map is committed in one transaction and made durable:
 * flush() returns only then, so an acknowledged flush survives kill -9. Reads see unflushed writes. Unwritten
 * chunks cost nothing and read as zeroes; zero() of whole chunks drops them from the map.
 * Operations run one at a time (a promise chain), so the NBD server may issue them concurrently.
 */
export class EncryptedBlockDevice implements BlockDevice {
  readonly size: number;
  readonly #o: EncryptedDeviceOptions;
  readonly #dirty = new Map<number, Buffer | null>();
  readonly #clean = new Map<number, Buffer>();
  #chain: Promise<unknown> = Promise.resolve();
  #failed: VolumeIoError | undefined;
  #closed = false;
  #lastCheck = 0;
  #genNext = 0;
  #genEnd = 0;

  constructor(options: EncryptedDeviceOptions) {
    this.#o = options;
    this.size = options.size;
    this.#lastCheck = Date.now();
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.#run(async () => {
      this.#range(offset, length);
      const out = Buffer.alloc(length);
      if (length === 0) return out;
      const first = Math.floor(offset / CHUNK_BYTES);
      const last = Math.floor((offset + length - 1) / CHUNK_BYTES);
      await this.#load(first, last);
      for (let i = first; i <= last; i++) {
        const chunkStart = i * CHUNK_BYTES;
        const from = Math.max(offset, chunkStart);
        const to = Math.min(offset + length, chunkStart + CHUNK_BYTES);
        const src = this.#current(i);
        if (src) src.copy(out, from - offset, from - chunkStart, to - chunkStart);
      }
      return out;
    });
  }

  write(offset: number, data: Buffer, fua: boolean): Promise<void> {
    return this.#run(async () => {
      this.#range(offset, data.length);
      await this.#modify(offset, data.length, (chunk, at, from, to) => data.copy(chunk, at, from, to));
      if (fua || this.#dirty.size >= MAX_SEGMENT_CHUNKS) await this.#persist();
    });
  }

  zero(offset: number, length: number, fua: boolean): Promise<void> {
    return this.#run(async () => {
      this.#range(offset, length);
      if (length === 0) return;
      // Whole chunks inside the range: only the written ones (committed or dirty) need anything — dropping
      // them — so zeroing (trimming) a whole 1 TiB volume visits what was written, not 2^24 chunks.
      const firstWhole = Math.ceil(offset / CHUNK_BYTES);
      const endWhole = Math.floor((offset + length) / CHUNK_BYTES);
      if (endWhole > firstWhole) {
        const inside = (i: number) => i >= firstWhole && i < endWhole;
        for (const i of [...this.#dirty.keys()].filter(inside)) this.#dirty.delete(i);
        for (const i of [...this.#o.map.keys()].filter(inside)) this.#setDirty(i, null);
        for (const i of [...this.#clean.keys()].filter(inside)) this.#clean.delete(i);
        if (offset < firstWhole * CHUNK_BYTES) await this.#modify(offset, firstWhole * CHUNK_BYTES - offset, zeroFill);
        if (offset + length > endWhole * CHUNK_BYTES) await this.#modify(endWhole * CHUNK_BYTES, offset + length - endWhole * CHUNK_BYTES, zeroFill);
      } else {
        await this.#modify(offset, length, zeroFill);
      }
      if (fua || this.#dirty.size >= MAX_SEGMENT_CHUNKS) await this.#persist();
    });
  }

  flush(): Promise<void> {
    return this.#run(() => this.#persist());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#run(() => this.#persist());
    } finally {
      this.#closed = true;
      this.#wipe();
      await this.#o.closed();
    }
  }

  /** Runs `op` after every earlier operation, once the device is known usable. */
  #run<T>(op: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(async () => {
      await this.#guard();
      try {
        return await op();
      } catch (err) {
        if (err instanceof VolumeIoError) throw err;
        if (err instanceof ChunkIntegrityError) throw new VolumeIoError(err.message, 'io');
        if (err instanceof RangeError) throw new VolumeIoError(err.message, 'io');
        throw new VolumeIoError('the volume store failed', 'io');
      }
    });
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async #guard(): Promise<void> {
    if (this.#closed) throw new VolumeIoError('the device is closed', 'shutdown');
    if (this.#failed) throw this.#failed;
    if (Date.now() - this.#lastCheck < this.#o.checkEveryMs) return;
    const reason = await this.#o.unusable().catch(() => undefined);
    this.#lastCheck = Date.now();
    if (reason !== undefined) {
      // Stopped: what was not flushed is dropped, the data key wiped. The client must disconnect.
      this.#failed = new VolumeIoError(reason, 'shutdown');
      this.#wipe();
      throw this.#failed;
    }
  }

  #range(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`${offset}+${length} is outside the volume (${this.size} bytes)`);
    }
  }

  /** Applies `edit` to every chunk of [offset, offset+length), each as a writable 64 KiB buffer. */
  async #modify(offset: number, length: number, edit: (chunk: Buffer, at: number, from: number, to: number) => void): Promise<void> {
    if (length === 0) return;
    const first = Math.floor(offset / CHUNK_BYTES);
    const last = Math.floor((offset + length - 1) / CHUNK_BYTES);
    const partial = [first, last].filter((i) => offset > i * CHUNK_BYTES || offset + length < (i + 1) * CHUNK_BYTES);
    for (const i of partial) await this.#load(i, i);
    for (let i = first; i <= last; i++) {
      const chunkStart = i * CHUNK_BYTES;
      const from = Math.max(offset, chunkStart);
      const to = Math.min(offset + length, chunkStart + CHUNK_BYTES);
      if (to - from === CHUNK_BYTES) {
        const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
        edit(chunk, 0, from - offset, to - offset);
        this.#setDirty(i, chunk);
        continue;
      }
      const current = this.#current(i);
      const chunk = this.#dirty.get(i) ?? (current ? Buffer.from(current) : zeroChunk());
      edit(chunk, from - chunkStart, from - offset, to - offset);
      this.#setDirty(i, chunk);
    }
  }

  #setDirty(i: number, chunk: Buffer | null): void {
    this.#dirty.set(i, chunk);
    const old = this.#clean.get(i);
    if (old && old !== chunk) old.fill(0);
    this.#clean.delete(i);
  }

  /** The chunk as reads see it now (undefined: zeroes). Only after #load of it. */
  #current(i: number): Buffer | undefined {
    if (this.#dirty.has(i)) return this.#dirty.get(i) ?? undefined;
    return this.#clean.get(i);
  }

  /** Decrypts the committed chunks of [first, last] that are neither dirty nor cached. */
  async #load(first: number, last: number): Promise<void> {
    const refs: ChunkRef[] = [];
    for (let i = first; i <= last; i++) {
      if (this.#dirty.has(i) || this.#clean.has(i)) continue;
      const ref = this.#o.map.get(i);
      if (ref) refs.push(ref);
    }
    if (refs.length === 0) return;
    const plains = await this.#o.chunks.readChunks(this.#o.volumeId, this.#o.dataKey.reveal(), refs);
    refs.forEach((ref, k) => this.#cache(ref.index, plains[k]!));
  }

  #cache(i: number, plain: Buffer): void {
    if (this.#clean.size >= CLEAN_CACHE_CHUNKS) {
      const oldest = this.#clean.keys().next().value as number;
      this.#clean.get(oldest)?.fill(0);
      this.#clean.delete(oldest);
    }
    this.#clean.set(i, plain);
  }

  async #generation(): Promise<number> {
    if (this.#genNext === this.#genEnd) {
      this.#genNext = await this.#o.chunks.store.reserveGenerations(this.#o.volumeId, GENERATION_BATCH);
      this.#genEnd = this.#genNext + GENERATION_BATCH;
    }
    return this.#genNext++;
  }

  /** Seals every dirty chunk, commits the map, makes it durable, then frees segments nothing references. */
  async #persist(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const { chunks, volumeId, map } = this.#o;
    const entries = [...this.#dirty].sort((a, b) => a[0] - b[0]);
    const written = entries.filter((e): e is [number, Buffer] => e[1] !== null).map(([index, plaintext]) => ({ index, plaintext }));
    const dropped = entries.filter(([i, c]) => c === null && map.has(i)).map(([i]) => i);
    const refs = await chunks.writeSegments(volumeId, this.#o.dataKey.reveal(), written, () => this.#generation());
    const replaced = await chunks.store.commitChunks(volumeId, refs, dropped);
    await chunks.durable();
    for (const r of refs) map.set(r.index, r);
    for (const i of dropped) map.delete(i);
    this.#dirty.clear();
    for (const w of written) this.#cache(w.index, w.plaintext);
    await chunks.collect(replaced);
  }

  #wipe(): void {
    for (const c of this.#dirty.values()) c?.fill(0);
    for (const c of this.#clean.values()) c.fill(0);
    this.#dirty.clear();
    this.#clean.clear();
    this.#o.dataKey.wipe();
  }
}
