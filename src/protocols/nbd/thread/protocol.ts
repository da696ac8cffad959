import { NbdConfig } from '../../../config/nbd.js';
import { ChunkRef, VolumeStore } from '../../../store/metadata/volume-types.js';

/** What the NBD thread is started with (workerData). */
export interface NbdThreadInit {
  readonly nbd: NbdConfig;
  /** The data dir whose blobs/ the thread reads and writes segment files in; absent: every blob through the main thread. */
  readonly fileBlobsDir?: string;
  readonly logLevel: string;
}

/** An opened export as the main thread hands it to the NBD thread (VolumeExportsService.openSession). */
export interface ExportSpec {
  /** The main thread's handle of the session (for 'unusable', 'flushed' and 'closed'). */
  readonly session: number;
  readonly volumeId: string;
  readonly size: number;
  /** The volume's data key: wiped by the receiver once adopted, and by the sender after sending. */
  readonly dataKey: Uint8Array;
  readonly map: ChunkRef[];
  readonly checkEveryMs: number;
}

/** The metadata store methods the NBD thread may call (what ChunkStore and EncryptedBlockDevice use). */
export const STORE_METHODS = [
  'addSegment',
  'commitChunks',
  'reserveGenerations',
  'dropSegmentIfUnreferenced',
  'segmentUsers',
  'getVolume',
  'deleteVolume',
] as const satisfies readonly (keyof VolumeStore)[];
