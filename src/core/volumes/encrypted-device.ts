import { SecretBytes } from '../crypto/secret-bytes.js';
import { BlobNotFoundError } from '../../store/blob/blob-store.js';
import { ChunkRef } from '../../store/metadata/volume-types.js';
import { BlockDevice, Extent, VolumeIoError } from './block-device.js';
import { chunkExtents } from './chunk-extents.js';
import { ChunkIntegrityError, ChunkStore, MAX_SEGMENT_CHUNKS, zeroChunk } from './chunk-store.js';
import { CHUNK_BYTES } from './chunks.js';

/** What a device operation rejects with: always a VolumeIoError (store details stay in the log-free message). */
function ioError(err: unknown): VolumeIoError {
  if (err instanceof VolumeIoError) return err;
  if (err instanceof ChunkIntegrityError || err instanceof RangeError) return new VolumeIoError(err.message, 'io');
  return new VolumeIoError('the volume store failed', 'io');
}

const zeroFill = (chunk: Buffer, at: number, from: number, to: number) => void chunk.fill(0, at, at + (to - from));

/** Copies bytes [from, to) of `pieces` (one byte string cut in pieces) into `target` at `at`. */
function copyPieces(pieces: readonly Buffer[], from: number, to: number, target: Buffer, at: number): void {
  let start = 0;
  for (const p of pieces) {
    const end = start + p.length;
    if (end > from && start < to) {
      const a = Math.max(from, start);
      const b = Math.min(to, end);
      p.copy(target, at + (a - from), a - start, b - start);
    }
    if (end >= to) return;
    start = end;
  }
}
/** What never-written chunks read as: views of it are handed to readers, which only send them (never written to). */
const ZEROES = Buffer.alloc(CHUNK_BYTES);

/** Decrypted clean chunks kept for reads and read-modify-writes (16 MiB). */
const CLEAN_CACHE_CHUNKS = 256;
/** Wiped chunk buffers kept for reuse (16 MiB). */
const SPARE_CHUNKS = 256;
/** A segment referenced by at most this many chunks, all of the volume's own, is compacted (of up to 256). */
const COMPACT_BELOW = 64;
const COMPACT_PER_PERSIST = 4;
/** Write-behind segment writes in progress at once (each up to a 16 MiB segment): sealing one overlaps the previous one's write. */
const MAX_FLYING = 2;
/**
 * Segments written behind and not yet committed (made durable and recorded in the chunk map) at most: past it a
 * write commits them as a flush does (512 MiB of data; a client that never flushes is not left with all of it
 * uncommitted).
 */
const MAX_UNCOMMITTED_SEGMENTS = 32;
/**
 * Segment fsyncs in progress at once, in the background. One at a time, each 16 MiB fsync waited for the last
 * one's journal commit and the disk fell behind the writes (65–100 ms each while writing: 16 segments took longer
 * than writing them); three keep it busy and leave a thread of libuv's pool (4) for reads and segment writes.
 */
const SYNC_LANES = 3;
/** Generations reserved per metadata round trip. */
const GENERATION_BATCH = 1024;

export interface EncryptedDeviceOptions {
  readonly volumeId: string;
  readonly size: number;
  readonly dataKey: SecretBytes;
  readonly chunks: ChunkStore;
  /** The volume's chunk map as committed (index → reference). */
  readonly map: Map<number, ChunkRef>;
  /**
   * Why the device may no longer be used (CMK disabled or deleted, grant revoked, volume detached, lease lost), or
   * undefined. A Stop with `flushFirst` (a DetachVolume without Force) makes what was acknowledged durable first.
   * A FlushAsked is not a stop: the device flushes in its chain, tells `flushed`, and goes on.
   */
  readonly unusable: () => Promise<string | Stop | FlushAsked | undefined>;
  /** Told once a FlushAsked has been served: every write acknowledged before it was asked is durable. */
  readonly flushed?: (asked: number) => Promise<void>;
  /** How often `unusable` is asked, at most (ms). */
  readonly checkEveryMs: number;
  /** Called once when the device closes (releases the open claim). */
  readonly closed: () => Promise<void>;
  /**
   * Called once the device has stopped (detached, CMK unusable, claim lost), before its client disconnects:
   * gives up the open claim, so the volume may be opened again at once.
   */
  readonly stopped?: () => Promise<void>;
}

/** Why a device stops, and whether it first makes every acknowledged write durable (a graceful stop). */
export interface Stop {
  readonly reason: string;
  readonly flushFirst: boolean;
}

/**
 * A flush asked of the device from elsewhere — a snapshot taken on another node, which cannot reach this device
 * but through the volume's record — numbered by the asker (VolumeFlushes.requested).
 */
export interface FlushAsked {
  readonly flushAsked: number;
}

/** Whether an answer of `unusable` is a flush asked rather than a stop. */
export function isFlushAsked(found: string | Stop | FlushAsked | undefined): found is FlushAsked {
  return typeof found === 'object' && 'flushAsked' in found;
}

/**
 * A volume opened for I/O (the BlockDevice the NBD server serves). Writes land in memory as whole 64 KiB
 * chunks (read-modify-write for partial ones). Written behind: once MAX_SEGMENT_CHUNKS are dirty they are sealed
 * into a segment blob written without fsync, and their references kept in memory (#written). Committed at a
 * flush (or FUA, or once MAX_UNCOMMITTED_SEGMENTS wait): every segment still referenced is fsynced, then the
 * chunk map is committed in one transaction and made durable — flush() returns only then, so an acknowledged
 * flush survives kill -9, and the durable map never names a segment that is not on disk (a crash before the
 * commit leaves segments nothing references: collected when the volume is next opened). One fsync pass per
 * flush instead of one per 16 MiB segment: sequential writes run at the disk's speed, as a file's do.
 * Reads see unflushed writes. Unwritten chunks cost nothing and read as zeroes; zero() of whole chunks drops
 * them from the map.
 * Operations run one at a time (a promise chain), so the NBD server may issue them concurrently.
 */
export class EncryptedBlockDevice implements BlockDevice {
  readonly size: number;
  readonly #o: EncryptedDeviceOptions;
  #dirty = new Map<number, Buffer | null>();
  /**
   * The write-behind segment writes in progress, oldest first (at most MAX_FLYING): each seals and writes its
   * segment at once, beside the one before, and records its references in #written after it (their promises
   * resolve in order).
   */
  #flying: Array<{ readonly entries: Map<number, Buffer | null>; done: Promise<void> }> = [];
  /** Chunks written behind into segments, not yet committed: index → reference (null: zeroed whole). Newer than the map. */
  #written = new Map<number, ChunkRef | null>();
  /**
   * The segments written behind since the last commit, each with its fsync — started as soon as it is written,
   * so the disk works while the next segments are sealed (the commit then waits only for the last ones); still
   * referenced at the commit: awaited; superseded: collected.
   */
  #writtenBlobs = new Map<string, Promise<void>>();
  /** The fsync lanes (SYNC_LANES): each segment's fsync runs after the one before it in its lane. */
  readonly #syncLanes: Promise<void>[] = Array.from({ length: SYNC_LANES }, () => Promise.resolve());
  #syncNext = 0;
  /**
   * The collection of segments earlier commits left unreferenced (#collectBehind), in the background: a flush
   * returns once what it acknowledged is durable, not after deleting what it superseded (16 segments of a
   * 256 MiB overwrite took ~160 ms to collect, a quarter of the flush). Awaited before the claim is given up.
   */
  #collecting: Promise<void> = Promise.resolve();
  readonly #clean = new Map<number, Buffer>();
  /**
   * Plaintext chunk buffers (64 KiB) given back — wiped — for reuse: every chunk in #dirty, #flying and #clean is
   * the device's own and comes back here when replaced, written out or evicted, so steady writing allocates no
   * chunk buffers (each allocation is external memory that brings V8's collections nearer). Readers get copies.
   */
  readonly #spare: Buffer[] = [];
  /** Read-modify-write bases being decrypted ahead of their write's turn (#prefetch). */
  readonly #prefetched = new Map<number, { ref: ChunkRef; plain: Promise<Buffer> }>();
  #chain: Promise<unknown> = Promise.resolve();
  #failed: VolumeIoError | undefined;
  /** A stop asked for (stop(), or seen by a read): applied by the next operation of the chain. */
  #stopping: Stop | undefined;
  /** A flush asked from elsewhere (FlushAsked), not yet served: served by the next operation of the chain. */
  #flushAsked: number | undefined;
  /** `stopped` was called. */
  #stopNoted = false;
  #closed = false;
  #lastCheck = 0;
  #genNext = 0;
  #genEnd = 0;

  /** Checks `unusable` every checkEveryMs while the device is open, so that an idle client's device stops too. */
  readonly #watch: NodeJS.Timeout;

  constructor(options: EncryptedDeviceOptions) {
    this.#o = options;
    this.size = options.size;
    this.#lastCheck = Date.now();
    this.#watch = setInterval(() => void this.check(), Math.max(20, options.checkEveryMs));
    this.#watch.unref();
  }

  /**
   * Reads run beside each other and beside writes (not in the chain): what they see is taken synchronously —
   * dirty and cached chunks copied at once, committed ones decrypted from the references of that moment — so a
   * read returns, per chunk, the content before or after a write in flight, never a mix of stale and new
   * state, and what it decrypts is cached only if the chunk did not change meanwhile. (Overlapping requests in
   * flight are ordered by the NBD server.) A segment freed under a read in flight (its chunk rewritten and
   * flushed meanwhile) makes the read start over once.
   */
  async read(offset: number, length: number): Promise<Buffer[]> {
    try {
      await this.#guard(false);
      this.#range(offset, length);
      try {
        return await this.#read(offset, length);
      } catch (err) {
        if (err instanceof BlobNotFoundError) return await this.#read(offset, length);
        throw err;
      }
    } catch (err) {
      throw ioError(err);
    }
  }

  /**
   * The range as one piece per chunk (BlockDevice.read). A chunk decrypted for this read and read whole is
   * handed out as it is — no copy into one reply buffer, no 1 MiB allocation per 1 MiB read — and not cached
   * (a sequential reader does not come back for it). What the device keeps and may change or wipe later (dirty,
   * in-flight and cached chunks) is copied; a chunk read in part is cached (the next small read or
   * read-modify-write of it finds it) and its part copied out.
   */
  async #read(offset: number, length: number): Promise<Buffer[]> {
    if (length === 0) return [];
    const first = Math.floor(offset / CHUNK_BYTES);
    const last = Math.floor((offset + length - 1) / CHUNK_BYTES);
    const pieces: Buffer[] = new Array<Buffer>(last - first + 1);
    const bounds = (i: number): [number, number] => {
      const chunkStart = i * CHUNK_BYTES;
      return [Math.max(offset, chunkStart) - chunkStart, Math.min(offset + length, chunkStart + CHUNK_BYTES) - chunkStart];
    };
    const copyOf = (i: number, src: Buffer) => Buffer.from(src.subarray(...bounds(i)));
    const zeroes = (i: number) => {
      const [from, to] = bounds(i);
      return ZEROES.subarray(0, to - from);
    };
    const refs: ChunkRef[] = [];
    for (let i = first; i <= last; i++) {
      const pending = this.#pending(i);
      if (pending !== undefined) {
        pieces[i - first] = pending ? copyOf(i, pending) : zeroes(i);
        continue;
      }
      const c = this.#clean.get(i);
      if (c) pieces[i - first] = copyOf(i, c);
      else {
        const ref = this.#ref(i);
        if (ref) refs.push(ref);
        else pieces[i - first] = zeroes(i);
      }
    }
    if (refs.length === 0) return pieces;
    const plains = await this.#o.chunks.readChunks(this.#o.volumeId, this.#o.dataKey.reveal(), refs);
    refs.forEach((ref, k) => {
      const i = ref.index;
      const plain = plains[k]!;
      const [from, to] = bounds(i);
      if (to - from === CHUNK_BYTES) pieces[i - first] = plain;
      else {
        pieces[i - first] = Buffer.from(plain.subarray(from, to));
        if (this.#ref(i) === ref && this.#pending(i) === undefined && !this.#clean.has(i)) this.#cache(i, plain);
        else plain.fill(0);
      }
    });
    return pieces;
  }

  /**
   * BlockDevice.extents: a chunk holds data when written — dirty, in a write-behind segment write in flight,
   * written behind (#written) or committed (the map) — and not zeroed whole since (a null entry, newest first
   * as #pending and #ref see it). Taken synchronously, like a read: a write in flight is seen before or after.
   */
  async extents(offset: number, length: number, maxExtents: number): Promise<Extent[]> {
    try {
      await this.#guard(false);
      this.#range(offset, length);
    } catch (err) {
      throw ioError(err);
    }
    const sources = [this.#o.map, this.#written, this.#dirty, ...this.#flying.map((f) => f.entries)];
    return chunkExtents(offset, length, maxExtents, {
      chunkBytes: CHUNK_BYTES,
      allocated: (i) => {
        const pending = this.#pending(i);
        return pending === undefined ? Boolean(this.#ref(i)) : pending !== null;
      },
      knownCount: sources.reduce((n, m) => n + m.size, 0),
      known: () => sources.flatMap((m) => [...m.keys()]),
    });
  }

  write(offset: number, data: Buffer | readonly Buffer[], fua: boolean): Promise<void> {
    const pieces = Buffer.isBuffer(data) ? [data] : data;
    const length = pieces.reduce((n, p) => n + p.length, 0);
    this.#prefetch(offset, length);
    return this.#run(async () => {
      this.#range(offset, length);
      await this.#modify(offset, length, (chunk, at, from, to) => copyPieces(pieces, from, to, chunk, at));
      if (fua) await this.#persist(true);
      else if (this.#dirty.size >= MAX_SEGMENT_CHUNKS) await this.#persist(false);
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
        for (const i of [...this.#dirty.keys()].filter(inside)) {
          this.#giveBack(this.#dirty.get(i));
          this.#dirty.delete(i);
        }
        for (const i of [...this.#o.map.keys(), ...this.#written.keys(), ...this.#flying.flatMap((f) => [...f.entries.keys()])].filter(inside)) this.#setDirty(i, null);
        for (const i of [...this.#clean.keys()].filter(inside)) {
          this.#giveBack(this.#clean.get(i));
          this.#clean.delete(i);
        }
        if (offset < firstWhole * CHUNK_BYTES) await this.#modify(offset, firstWhole * CHUNK_BYTES - offset, zeroFill);
        if (offset + length > endWhole * CHUNK_BYTES) await this.#modify(endWhole * CHUNK_BYTES, offset + length - endWhole * CHUNK_BYTES, zeroFill);
      } else {
        await this.#modify(offset, length, zeroFill);
      }
      if (fua) await this.#persist(true);
      else if (this.#dirty.size >= MAX_SEGMENT_CHUNKS) await this.#persist(false);
    });
  }

  flush(): Promise<void> {
    return this.#run(() => this.#persist(true));
  }

  /**
   * Stops the device (DetachVolume): the operations queued behind the one running now fail with ESHUTDOWN, and
   * so does every later one. `flushFirst` (without Force): every write acknowledged before is made durable
   * first; otherwise (Force) what was not flushed is dropped — as a force-detached EBS volume loses what the
   * instance had not written out. Resolves once the device has stopped.
   */
  async stop(reason: string, flushFirst: boolean): Promise<void> {
    this.#stopping ??= { reason, flushFirst };
    if (!flushFirst) this.#stopping = { reason, flushFirst: false };
    await this.check(true);
  }

  /**
   * Asks `unusable` now (not waiting for an operation; the NBD server's idle clients too) and applies the answer
   * in the chain: a device that must stop stops even when its client sends nothing. `always`: even if it was
   * asked less than checkEveryMs ago.
   */
  check(always = false): Promise<void> {
    const p = this.#chain.then(() => this.#guard(true, always));
    this.#chain = p.catch(() => undefined);
    return p.catch(async () => {
      if (this.#failed === undefined || this.#stopNoted) return;
      this.#stopNoted = true;
      clearInterval(this.#watch);
      // The claim is given up only once the segment writes in progress are done: a reopen elsewhere collects the
      // volume's unrecorded segments, and one still being written would otherwise be left behind as a file.
      await Promise.allSettled(this.#flying.map((f) => f.done));
      await this.#collecting;
      await this.#o.stopped?.().catch(() => undefined);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#run(() => this.#persist(true));
    } finally {
      this.#closed = true;
      clearInterval(this.#watch);
      this.#wipe();
      await this.#collecting;
      await this.#o.closed();
    }
  }

  /** Runs `op` after every earlier operation, once the device is known usable. */
  #run<T>(op: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(async () => {
      await this.#guard(true);
      try {
        return await op();
      } catch (err) {
        throw ioError(err);
      }
    });
    this.#chain = p.catch(() => undefined);
    return p;
  }

  /**
   * Throws once the device may not be used. A stop is applied only in the chain (`inChain`), where no other
   * operation runs: a graceful one persists first, and the data key is wiped only after the write-behind in
   * progress (it still seals with it) — never under a write. A read (outside the chain) that finds the device
   * must stop fails and leaves the stop to the chain.
   */
  async #guard(inChain: boolean, always = false): Promise<void> {
    if (this.#closed) throw new VolumeIoError('the device is closed', 'shutdown');
    if (this.#failed) throw this.#failed;
    if (this.#stopping === undefined && (always || Date.now() - this.#lastCheck >= this.#o.checkEveryMs)) {
      const found = await this.#o.unusable().catch(() => undefined);
      this.#lastCheck = Date.now();
      if (isFlushAsked(found)) this.#flushAsked = Math.max(this.#flushAsked ?? 0, found.flushAsked);
      else if (found !== undefined) this.#stopping ??= typeof found === 'string' ? { reason: found, flushFirst: false } : found;
    }
    const stop = this.#stopping;
    if (stop === undefined) {
      if (this.#flushAsked === undefined) return;
      // Served in the chain, as the client's own flush would be; a read leaves it to the chain (and goes on).
      if (!inChain) {
        void this.check();
        return;
      }
      const asked = this.#flushAsked;
      this.#flushAsked = undefined;
      // A flush that fails stops the device (#persist sets #failed), as the client's own flush failing does.
      await this.#persist(true);
      void this.#o.flushed?.(asked).catch(() => undefined);
      return;
    }
    if (!inChain) {
      void this.check();
      throw new VolumeIoError(stop.reason, 'shutdown');
    }
    if (this.#failed) throw this.#failed;
    // A graceful stop: what was acknowledged is made durable (if that fails, the device stops all the same).
    if (stop.flushFirst) await this.#persist(true).catch(() => undefined);
    // Stopped: what was not flushed is dropped, the data key wiped. The client must disconnect.
    this.#failed ??= new VolumeIoError(stop.reason, 'shutdown');
    // A write-behind persist in progress finishes first (its writes were acknowledged; it still has the key).
    const wipe = () => this.#wipe();
    if (this.#flying.length > 0) void Promise.allSettled(this.#flying.map((f) => f.done)).then(wipe);
    else wipe();
    throw this.#failed;
  }

  #range(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`${offset}+${length} is outside the volume (${this.size} bytes)`);
    }
  }

  /** Applies `edit` to every chunk of [offset, offset+length), each as a writable 64 KiB buffer of the device's own. */
  async #modify(offset: number, length: number, edit: (chunk: Buffer, at: number, from: number, to: number) => void): Promise<void> {
    if (length === 0) return;
    const first = Math.floor(offset / CHUNK_BYTES);
    const last = Math.floor((offset + length - 1) / CHUNK_BYTES);
    // Partly covered chunks: their current content becomes a dirty copy first (read-modify-write). Writes run
    // one at a time, so no other write changes #dirty meanwhile; reads only add to the clean cache.
    for (const i of new Set([first, last])) {
      if (offset <= i * CHUNK_BYTES && offset + length >= (i + 1) * CHUNK_BYTES) continue;
      const d = this.#dirty.get(i);
      if (d) continue;
      if (d === null) {
        this.#setDirty(i, this.#zeroed());
        continue;
      }
      const flying = this.#flyingGet(i);
      if (flying !== undefined) {
        this.#setDirty(i, flying ? this.#copy(flying) : this.#zeroed());
        continue;
      }
      const base = await this.#committed(i);
      if (!this.#dirty.has(i)) this.#setDirty(i, base);
      else this.#giveBack(base);
    }
    for (let i = first; i <= last; i++) {
      const chunkStart = i * CHUNK_BYTES;
      const from = Math.max(offset, chunkStart);
      const to = Math.min(offset + length, chunkStart + CHUNK_BYTES);
      // A dirty chunk is changed in place; otherwise a spare one (the whole chunk is written: no need to zero it).
      let chunk = this.#dirty.get(i);
      if (!chunk) chunk = to - from === CHUNK_BYTES ? this.#take() : this.#zeroed();
      edit(chunk, from - chunkStart, from - offset, to - offset);
      this.#setDirty(i, chunk);
    }
  }

  /**
   * Starts decrypting the committed chunks a write covers only in part, before the write's turn comes: writes
   * run one at a time, but their read-modify-write reads overlap this way (4 KiB random writes in flight).
   */
  #prefetch(offset: number, length: number): void {
    if (length === 0 || this.#closed || this.#failed || !Number.isSafeInteger(offset) || offset < 0 || offset + length > this.size) return;
    const first = Math.floor(offset / CHUNK_BYTES);
    const last = Math.floor((offset + length - 1) / CHUNK_BYTES);
    for (const i of new Set([first, last])) {
      if (offset <= i * CHUNK_BYTES && offset + length >= (i + 1) * CHUNK_BYTES) continue;
      if (this.#pending(i) !== undefined || this.#clean.has(i) || this.#prefetched.has(i)) continue;
      const ref = this.#ref(i);
      if (!ref) continue;
      const plain = this.#o.chunks.readChunks(this.#o.volumeId, this.#o.dataKey.reveal(), [ref]).then(([p]) => p!);
      plain.catch(() => undefined);
      this.#prefetched.set(i, { ref, plain });
    }
  }

  /** A private copy of chunk i as written to a segment (cached, prefetched or decrypted), zeroes when never written. */
  async #committed(i: number): Promise<Buffer> {
    const ref = this.#ref(i);
    const pre = this.#prefetched.get(i);
    this.#prefetched.delete(i);
    const c = this.#clean.get(i);
    if (c) {
      // Handed over (it becomes the dirty chunk): no copy.
      this.#clean.delete(i);
      return c;
    }
    if (!ref) return this.#zeroed();
    if (pre && pre.ref === ref) return pre.plain;
    const [plain] = await this.#o.chunks.readChunks(this.#o.volumeId, this.#o.dataKey.reveal(), [ref]);
    return plain!;
  }

  #setDirty(i: number, chunk: Buffer | null): void {
    const before = this.#dirty.get(i);
    if (before && before !== chunk) this.#giveBack(before);
    this.#dirty.set(i, chunk);
    const old = this.#clean.get(i);
    if (old && old !== chunk) this.#giveBack(old);
    this.#clean.delete(i);
  }

  /** A spare chunk buffer (contents undefined: the caller overwrites all of it). */
  #take(): Buffer {
    return this.#spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
  }

  #zeroed(): Buffer {
    const b = this.#spare.pop();
    return b ? b.fill(0) : zeroChunk();
  }

  #copy(chunk: Buffer): Buffer {
    const b = this.#take();
    chunk.copy(b);
    return b;
  }

  /** Wipes a plaintext chunk no longer used and keeps it for reuse (up to SPARE_CHUNKS). */
  #giveBack(chunk: Buffer | null | undefined): void {
    if (!chunk) return;
    chunk.fill(0);
    if (chunk.length === CHUNK_BYTES && this.#spare.length < SPARE_CHUNKS && !this.#closed) this.#spare.push(chunk);
  }

  #cache(i: number, plain: Buffer): void {
    if (this.#clean.size >= CLEAN_CACHE_CHUNKS) {
      const oldest = this.#clean.keys().next().value as number;
      this.#giveBack(this.#clean.get(oldest));
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

  /** Where chunk i is in a segment — written behind (#written) or committed (the map) — or null/undefined when it reads as zeroes. */
  #ref(i: number): ChunkRef | null | undefined {
    return this.#written.has(i) ? this.#written.get(i) : this.#o.map.get(i);
  }

  /** Chunk i as written but not yet in a segment (null: zeroed), or undefined when its segment state (#ref) is current. */
  #pending(i: number): Buffer | null | undefined {
    if (this.#dirty.has(i)) return this.#dirty.get(i)!;
    return this.#flyingGet(i);
  }

  /** Chunk i as the newest persist in progress holds it, or undefined when none does. */
  #flyingGet(i: number): Buffer | null | undefined {
    for (let k = this.#flying.length - 1; k >= 0; k--) {
      const e = this.#flying[k]!.entries;
      if (e.has(i)) return e.get(i)!;
    }
    return undefined;
  }

  /**
   * Hands every dirty chunk to a write-behind segment write (seal, write without fsync, record in #written).
   * Up to MAX_FLYING run at once: the next segment is sealed while the previous one is written (a write that
   * fills a set beyond that waits for the oldest), and each records its references only after the one before.
   * `durable` (flush, FUA, close), or MAX_UNCOMMITTED_SEGMENTS written: then everything written is committed
   * (#commitWritten) and durable when it resolves.
   */
  async #persist(durable: boolean): Promise<void> {
    while (this.#flying.length >= MAX_FLYING) await this.#flying[0]!.done;
    if (this.#dirty.size > 0) {
      const entries = this.#dirty;
      this.#dirty = new Map();
      const before = this.#flying.at(-1)?.done;
      const persist = { entries, done: Promise.resolve() };
      const settle = () => void (this.#flying = this.#flying.filter((f) => f !== persist));
      persist.done = this.#writeBehind(entries, before).then(settle, (err: unknown) => {
        // What was acknowledged but not written cannot be kept: the device stops.
        this.#failed ??= ioError(err);
        settle();
        throw this.#failed;
      });
      persist.done.catch(() => undefined);
      this.#flying.push(persist);
    }
    if (durable || this.#writtenBlobs.size >= MAX_UNCOMMITTED_SEGMENTS) {
      // Each segment write resolves after the one before it: the newest covers them all.
      const last = this.#flying.at(-1);
      if (last) await last.done;
      await this.#commitWritten().catch((err: unknown) => {
        // Acknowledged writes that could not be made durable: the device stops.
        this.#failed ??= ioError(err);
        throw this.#failed;
      });
    }
  }

  /** One segment write: seals and writes `entries` now, records their references once `before` (the previous one) has. */
  async #writeBehind(entries: Map<number, Buffer | null>, before: Promise<void> | undefined): Promise<void> {
    const { chunks, volumeId } = this.#o;
    const sorted = [...entries].sort((a, b) => a[0] - b[0]);
    const written = sorted.filter((e): e is [number, Buffer] => e[1] !== null).map(([index, plaintext]) => ({ index, plaintext }));
    const refs = await chunks.writeSegments(volumeId, this.#o.dataKey.reveal(), written, () => this.#generation(), { durable: false });
    if (before) {
      try {
        await before;
      } catch (err) {
        // The write before failed (the device stops): this one's segments are never committed.
        await chunks.collect(new Set(refs.map((r) => r.blobId))).catch(() => undefined);
        throw err;
      }
    }
    const synced = this.#syncBehind([...new Set(refs.map((r) => r.blobId))]);
    for (const r of refs) {
      this.#written.set(r.index, r);
      this.#writtenBlobs.set(r.blobId, synced);
    }
    for (const [i, c] of sorted) if (c === null) this.#written.set(i, null);
    // Cached unless a later write (dirty, or a newer segment write in progress) has replaced it meanwhile.
    const newer = (i: number) => this.#dirty.has(i) || this.#flying.some((f) => f.entries !== entries && f.entries.has(i));
    for (const w of written) {
      if (!newer(w.index)) this.#cache(w.index, w.plaintext);
      else this.#giveBack(w.plaintext);
    }
  }

  /** fsyncs segments in the background, in SYNC_LANES lanes (round robin). */
  #syncBehind(blobIds: readonly string[]): Promise<void> {
    const lane = this.#syncNext;
    this.#syncNext = (lane + 1) % SYNC_LANES;
    const p = this.#syncLanes[lane]!.then(() => this.#o.chunks.sync(blobIds));
    this.#syncLanes[lane] = p.catch(() => undefined);
    // Awaited (and its failure reported) by the commit; a superseded segment's failure does not matter.
    p.catch(() => undefined);
    return p;
  }

  /**
   * Commits what was written behind (every segment write has finished): fsyncs the segments still referenced,
   * then records their chunks (and drops zeroed ones) in one transaction and makes it durable; then frees the
   * segments nothing references any more — those whose chunks this replaced, and those of this window that
   * later writes superseded before the commit. Runs in the operation chain, so #written does not change meanwhile.
   */
  async #commitWritten(): Promise<void> {
    const { chunks, volumeId, map } = this.#o;
    const window = this.#written;
    const refs = [...window.values()].filter((r): r is ChunkRef => r !== null);
    const live = new Set(refs.map((r) => r.blobId));
    await Promise.all([...live].map((b) => this.#writtenBlobs.get(b) ?? chunks.sync([b])));
    const dropped = [...window].filter(([i, r]) => r === null && map.has(i)).map(([i]) => i);
    const replaced = window.size > 0 ? await chunks.store.commitChunks(volumeId, refs, dropped) : [];
    await chunks.durable();
    if (window.size > 0 && !(await chunks.store.getVolume(volumeId))) {
      // Detached and deleted while this commit was under way: what it just recorded belongs to nothing.
      await chunks.collect(await chunks.store.deleteVolume(volumeId));
      throw new VolumeIoError(`${volumeId} was deleted`, 'shutdown');
    }
    const superseded = [...this.#writtenBlobs.keys()].filter((b) => !live.has(b));
    this.#written = new Map();
    this.#writtenBlobs = new Map();
    for (const r of refs) map.set(r.index, r);
    for (const i of dropped) map.delete(i);
    this.#collectBehind(new Set([...replaced, ...superseded]));
  }

  /**
   * Resolves once the collections earlier commits started — and the compactions they queued — have finished
   * (close() and a stop wait for them too). A flush does not wait for them.
   */
  collected(): Promise<void> {
    return this.#collecting;
  }

  /**
   * Deletes the segments among `blobIds` nothing references any more, in the background (after the collections
   * before it), and compacts those still referenced in the operation chain. A read in flight that still holds a
   * reference to a deleted segment starts over (read()), as before.
   */
  #collectBehind(blobIds: Set<string>): void {
    if (blobIds.size === 0) return;
    this.#collecting = this.#collecting
      .then(async () => {
        const kept = await this.#o.chunks.collect(blobIds);
        if (kept.length > 0 && !this.#closed && !this.#failed) await this.#run(() => this.#compact(kept));
      })
      // What could not be deleted now is left for orphanSegments at the next open; a compaction that failed leaves
      // its segment as it is (before, it failed the flush, and the device, after the commit had succeeded).
      .catch(() => undefined);
  }

  /**
   * Compaction: a segment this write-behind left mostly superseded stays on disk as long as any chunk still
   * references it (random writes would leave every segment pinned by a few live chunks, up to 256x the data).
   * When only this volume's chunks reference it and they are few, they are made dirty again as they are: the
   * next persist writes them into a new segment and frees this one. A segment a snapshot or another volume
   * shares stays (it is theirs too). At most COMPACT_PER_PERSIST segments per persist.
   */
  async #compact(stillReferenced: readonly string[]): Promise<void> {
    const { chunks, volumeId, map } = this.#o;
    for (const blobId of stillReferenced.slice(0, COMPACT_PER_PERSIST)) {
      const users = await chunks.store.segmentUsers(blobId, COMPACT_BELOW + 1);
      if (users.length > COMPACT_BELOW || users.some((u) => u.ownerId !== volumeId)) continue;
      const refs = users.map((u) => map.get(u.index)).filter((r): r is ChunkRef => r !== undefined && r.blobId === blobId && this.#pending(r.index) === undefined);
      if (refs.length === 0) continue;
      const plains = await chunks.readChunks(volumeId, this.#o.dataKey.reveal(), refs);
      refs.forEach((ref, k) => {
        // Unless a write got there meanwhile (then the write's content goes out, and the segment is freed anyway).
        if (map.get(ref.index) === ref && this.#pending(ref.index) === undefined) this.#dirty.set(ref.index, plains[k]!);
      });
    }
  }

  #wipe(): void {
    for (const c of this.#dirty.values()) c?.fill(0);
    for (const f of this.#flying) for (const c of f.entries.values()) c?.fill(0);
    for (const c of this.#clean.values()) c.fill(0);
    this.#spare.length = 0;
    this.#dirty.clear();
    this.#clean.clear();
    this.#o.dataKey.wipe();
  }
}
