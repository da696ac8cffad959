/**
 * The NBD thread (a worker_threads Worker started by host.ts): the NBD server and the encrypted devices of the
 * volumes its clients open run here, in an isolate of their own.
 *
 * Why: every block read or written allocates buffers outside V8's heap (decrypted and sealed chunks, socket
 * reads), and every 64 MiB of those starts a major garbage collection, which marks the whole heap. The main
 * thread's heap holds the whole server (services, models, caches); this one holds little, so each collection is
 * cheap — measured with fio over NBD: ~1.6x sequential reads, the collector's CPU ~4x lower — and block I/O no
 * longer competes with API requests for one thread.
 *
 * What stays in the main thread, reached by calls (rpc.ts): opening an export (the claim, the data key through
 * KMS, the chunk map), the usability checks (CMK, grant, attachment), the metadata store (chunk maps, segments,
 * generations) and, with PostgreSQL, the blobs. Segment files are read and written here directly.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { NbdConfig } from '../../../config/nbd.js';
import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { BlockDevice, VolumeExports } from '../../../core/volumes/block-device.js';
import { ChunkStore } from '../../../core/volumes/chunk-store.js';
import { EncryptedBlockDevice, FlushAsked, Stop } from '../../../core/volumes/encrypted-device.js';
import { FsBlobStore } from '../../../store/blob/fs/fs-blob-store.js';
import { ChunkRef, VolumeStore } from '../../../store/metadata/volume-types.js';
import { startNbd } from '../start.js';
import { Rpc } from './rpc.js';
import { ThreadBlobStore } from './thread-blobs.js';
import { STORE_METHODS, type ExportSpec, type NbdThreadInit } from './protocol.js';

const init = workerData as NbdThreadInit;

/** The volumes' metadata store, in the main thread: only the methods the devices use (STORE_METHODS). */
function remoteStore(rpc: Rpc): VolumeStore {
  const methods = Object.fromEntries(STORE_METHODS.map((m) => [m, (...args: unknown[]) => rpc.call('store', m, args)]));
  return methods as unknown as VolumeStore;
}

class ThreadExports implements VolumeExports {
  readonly #devices = new Map<string, EncryptedBlockDevice>();

  constructor(
    private readonly rpc: Rpc,
    private readonly chunks: ChunkStore,
  ) {}

  list(): Promise<string[]> {
    return this.rpc.call<string[]>('list');
  }

  async open(exportName: string): Promise<BlockDevice | undefined> {
    const spec = await this.rpc.call<ExportSpec | undefined>('open', exportName);
    if (!spec) return undefined;
    const key = Buffer.from(spec.dataKey);
    spec.dataKey.fill(0);
    const closed = async () => {
      if (this.#devices.get(spec.volumeId) === device) this.#devices.delete(spec.volumeId);
      await this.rpc.call('closed', spec.session);
    };
    const device: EncryptedBlockDevice = new EncryptedBlockDevice({
      volumeId: spec.volumeId,
      size: spec.size,
      dataKey: SecretBytes.adopt(key),
      chunks: this.chunks,
      map: new Map(spec.map.map((r: ChunkRef) => [r.index, r])),
      checkEveryMs: spec.checkEveryMs,
      unusable: () => this.rpc.call<string | Stop | FlushAsked | undefined>('unusable', spec.session),
      flushed: (asked) => this.rpc.call('flushed', spec.session, asked),
      closed,
      // Stopped (detached, CMK unusable): the claim is given up before the client disconnects ('closed' twice is harmless).
      stopped: closed,
    });
    this.#devices.set(spec.volumeId, device);
    return device;
  }

  /** Flushes the volume's device if open here; whether it was (a failed flush counts: the device has stopped). */
  async flush(volumeId: string): Promise<boolean> {
    const device = this.#devices.get(volumeId);
    await device?.flush().catch(() => undefined);
    return device !== undefined;
  }

  /** DetachVolume: stops the volume's device if open here (EncryptedBlockDevice.stop). */
  async stop(volumeId: string, reason: string, flushFirst: boolean): Promise<void> {
    await this.#devices.get(volumeId)?.stop(reason, flushFirst);
  }
}

async function main(): Promise<void> {
  const port = parentPort!;
  let stop: (() => Promise<void>) | undefined;
  let exports: ThreadExports | undefined;
  const rpc = new Rpc(port, async (method, args) => {
    switch (method) {
      case 'start': {
        const nbd = await startNbd(init.nbd as NbdConfig, exports!, log);
        stop = () => nbd.server.close();
        return nbd.url;
      }
      case 'flush':
        return exports!.flush(args[0] as string);
      case 'stopDevice':
        return exports!.stop(args[0] as string, args[1] as string, args[2] as boolean);
      case 'stop':
        await stop?.();
        stop = undefined;
        return undefined;
      default:
        throw new Error(`the NBD thread has no call ${method}`);
    }
  });
  // Log records go to the main thread's logger (one destination, and a test's logger sees them too).
  const log = pino({ level: init.logLevel }, { write: (line: string) => void rpc.call('log', line).catch(() => undefined) });
  const files = init.fileBlobsDir ? await FsBlobStore.open(init.fileBlobsDir) : undefined;
  const chunks = new ChunkStore(remoteStore(rpc), new ThreadBlobStore(files, rpc), () => rpc.call('durable'));
  exports = new ThreadExports(rpc, chunks);
  port.postMessage({ t: 'ready' });
}

void main();
