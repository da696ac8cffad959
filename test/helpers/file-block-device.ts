/**
 * TEST FIXTURE ONLY — not product code. A BlockDevice over a plain temp file (no encryption, no volume store), so
 * that the NBD protocol can be tested on its own, and VolumeExports over a set of such files. The product's
 * devices are the encrypted volumes of src/core/volumes.
 */
import { FileHandle, open } from 'node:fs/promises';
import { BlockDevice, Extent, VolumeExports, VolumeIoError } from '../../src/core/volumes/block-device.js';
import { chunkExtents } from '../../src/core/volumes/chunk-extents.js';

/** The allocation unit the fixture reports (as the encrypted device's chunks). */
const CHUNK = 65536;

export interface FileDeviceCalls {
  flushes: number;
  fuaWrites: number;
  /** [offset, length] of each write and zero, in the order they ran. */
  writes: Array<[number, number]>;
  /** [offset, length, maxExtents] of each extents() call. */
  extents: Array<[number, number, number]>;
}

export class FileBlockDevice implements BlockDevice {
  private closed = false;
  /** Tests set this to make every later call fail like a volume whose CMK was disabled. */
  failWith: VolumeIoError | undefined;
  /** Tests set this to slow writes down (to hold requests in flight). */
  writeDelayMs = 0;
  /** Tests set this to slow close() down (a volume flushing a lot at close). */
  closeDelayMs = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly calls: FileDeviceCalls,
    private readonly onClose: () => void,
    /** The 64 KiB chunks written (and not zeroed whole since): as SEEK_DATA would see a file created empty. */
    private readonly written: Set<number> = new Set(),
  ) {}

  static async open(path: string, size: number, calls: FileDeviceCalls, onClose: () => void, written?: Set<number>): Promise<FileBlockDevice> {
    const fh = await open(path, 'r+');
    return new FileBlockDevice(fh, size, calls, onClose, written);
  }

  private check(offset: number, length: number): void {
    if (this.closed) throw new VolumeIoError('closed', 'shutdown');
    if (this.failWith) throw this.failWith;
    if (offset < 0 || length < 0 || offset + length > this.size) throw new RangeError('out of range');
  }

  async read(offset: number, length: number): Promise<Buffer[]> {
    this.check(offset, length);
    const out = Buffer.alloc(length);
    await this.fh.read(out, 0, length, offset);
    // In pieces at 64 KiB boundaries, as the encrypted device hands them out (one per chunk).
    const pieces: Buffer[] = [];
    for (let at = 0; at < length; ) {
      const end = Math.min(length, (Math.floor((offset + at) / 65536) + 1) * 65536 - offset);
      pieces.push(out.subarray(at, end));
      at = end;
    }
    return pieces;
  }

  async write(offset: number, given: Buffer | readonly Buffer[], fua: boolean): Promise<void> {
    const data = Buffer.isBuffer(given) ? given : Buffer.concat(given);
    this.check(offset, data.length);
    this.calls.writes.push([offset, data.length]);
    if (this.writeDelayMs > 0) await new Promise((r) => setTimeout(r, this.writeDelayMs));
    await this.fh.write(data, 0, data.length, offset);
    for (let i = Math.floor(offset / CHUNK); i * CHUNK < offset + data.length; i++) this.written.add(i);
    if (fua) {
      this.calls.fuaWrites++;
      await this.fh.datasync();
    }
  }

  async zero(offset: number, length: number, fua: boolean): Promise<void> {
    this.check(offset, length);
    this.calls.writes.push([offset, length]);
    const chunk = Buffer.alloc(Math.min(length, 1 << 20));
    for (let done = 0; done < length; done += chunk.length) {
      const n = Math.min(chunk.length, length - done);
      await this.fh.write(chunk, 0, n, offset + done);
    }
    for (let i = Math.ceil(offset / CHUNK); (i + 1) * CHUNK <= offset + length; i++) this.written.delete(i);
    if (fua) await this.fh.datasync();
  }

  async extents(offset: number, length: number, maxExtents: number): Promise<Extent[]> {
    this.check(offset, length);
    this.calls.extents.push([offset, length, maxExtents]);
    return chunkExtents(offset, length, maxExtents, { chunkBytes: CHUNK, allocated: (i) => this.written.has(i), knownCount: this.written.size, known: () => this.written });
  }

  async flush(): Promise<void> {
    this.check(0, 0);
    this.calls.flushes++;
    await this.fh.sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.closeDelayMs > 0) await new Promise((r) => setTimeout(r, this.closeDelayMs));
    await this.fh.sync().catch(() => undefined);
    await this.fh.close();
    this.onClose();
  }
}

/** Exports named after their files; one client per export at a time, as the seam asks. */
export class FileExports implements VolumeExports {
  readonly volumes = new Map<string, { path: string; size: number; written: Set<number> }>();
  readonly open_ = new Map<string, FileBlockDevice>();
  readonly calls: FileDeviceCalls = { flushes: 0, fuaWrites: 0, writes: [], extents: [] };

  add(name: string, path: string, size: number): void {
    this.volumes.set(name, { path, size, written: new Set() });
  }

  async open(name: string): Promise<BlockDevice | undefined> {
    const v = this.volumes.get(name);
    if (!v) return undefined;
    if (this.open_.has(name)) throw new VolumeIoError(`volume ${name} is in use by another client`, 'shutdown');
    const device = await FileBlockDevice.open(v.path, v.size, this.calls, () => this.open_.delete(name), v.written);
    this.open_.set(name, device);
    return device;
  }

  async list(): Promise<string[]> {
    return [...this.volumes.keys()];
  }
}
