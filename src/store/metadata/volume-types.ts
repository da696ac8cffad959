/**
 * EBS-style volumes and snapshots as the metadata store keeps them (issue 12). Block contents are sealed
 * chunks inside segment blobs of the blob store (src/core/volumes/chunks.ts); this store says which chunk of
 * which volume or snapshot is where, with the generation its AAD binds (a chunk moved, swapped or rolled back
 * to an older record fails authentication or the generation check).
 */

/** How a volume's or snapshot's data key is kept: wrapped by a KMS key (a CiphertextBlob) or sealed by the service key. */
export type WrappedDataKey = { readonly kind: 'kms'; readonly keyArn: string; readonly ciphertextBlob: string } | { readonly kind: 'service'; readonly sealed: string };

export type VolumeState = 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted' | 'error';

export interface VolumeAttachment {
  readonly instanceId: string;
  readonly device: string;
  /** epoch ms */
  readonly attachTime: number;
  /** A DetachVolume without Force is under way: the device open on the volume (on any node) flushes and stops. */
  readonly detaching?: boolean;
}

export interface VolumeRecord {
  readonly volumeId: string;
  readonly accountId: string;
  readonly region: string;
  readonly availabilityZone: string;
  readonly sizeGiB: number;
  readonly volumeType: string;
  readonly iops?: number;
  readonly throughput?: number;
  readonly encrypted: boolean;
  readonly dataKey: WrappedDataKey;
  /** The grant EBS holds on the volume's KMS key (made at creation), to open the data key without the caller. */
  readonly grantId?: string;
  readonly snapshotId?: string;
  readonly state: VolumeState;
  readonly createTime: number;
  readonly attachment?: VolumeAttachment;
  readonly tags: Readonly<Record<string, string>>;
  /** The most recent ModifyVolume (DescribeVolumesModifications shows only that one, as EC2 does); absent: never modified. */
  readonly modification?: VolumeModificationRecord;
  /** Flushes asked of the device open on the volume on another node (CreateSnapshot there); absent: none ever asked. */
  readonly flushes?: VolumeFlushes;
}

/**
 * The flush requests of a volume, kept in its record (no column: the record's JSON carries it). A node taking a
 * snapshot of a volume another node has open increments `requested` (reviseVolume: one transaction) and waits for
 * `done` to reach it; that node's device sees the request at its next check (every checkEveryMs), flushes every
 * write its client was acknowledged, then records `done` (src/core/volumes/volume-exports.ts).
 */
export interface VolumeFlushes {
  /** How many flushes were ever asked. */
  readonly requested: number;
  /** The most recent request a device has served (every write acknowledged before it was then durable). */
  readonly done: number;
}

/** What ModifyVolume may change of a volume: its size, type and performance. */
export interface VolumeConfiguration {
  readonly sizeGiB: number;
  readonly volumeType: string;
  readonly iops?: number;
  readonly throughput?: number;
}

export type VolumeModificationState = 'modifying' | 'optimizing' | 'completed' | 'failed';

/** A volume modification (EC2's VolumeModification): what the volume was and what it was changed to. */
export interface VolumeModificationRecord {
  readonly state: VolumeModificationState;
  readonly original: VolumeConfiguration;
  readonly target: VolumeConfiguration;
  /** epoch ms */
  readonly startTime: number;
  /** epoch ms; set once completed (or failed). */
  readonly endTime?: number;
}

export type SnapshotState = 'pending' | 'completed' | 'error';

export interface SnapshotRecord {
  readonly snapshotId: string;
  readonly accountId: string;
  readonly region: string;
  /** The volume it was taken of (for a copy: the source snapshot's volume id, as EC2 shows vol-ffffffff). */
  readonly volumeId: string;
  readonly volumeSizeGiB: number;
  readonly description: string;
  readonly encrypted: boolean;
  readonly dataKey: WrappedDataKey;
  readonly state: SnapshotState;
  readonly startTime: number;
  readonly tags: Readonly<Record<string, string>>;
  /** Started with the EBS direct APIs' StartSnapshot (src/core/volumes/direct-snapshots.ts). */
  readonly direct?: DirectSnapshotInfo;
  /** Who besides the owner may make volumes and copies of it (ModifySnapshotAttribute); absent: nobody. */
  readonly createVolumePermission?: CreateVolumePermission;
}

/** A snapshot's createVolumePermission attribute: accounts it is shared with, and whether it is public (group `all`). */
export interface CreateVolumePermission {
  readonly userIds: readonly string[];
  readonly public: boolean;
}

export interface DirectSnapshotInfo {
  readonly parentSnapshotId?: string;
  readonly clientToken?: string;
  /** SHA-256 of the StartSnapshot request's members: a ClientToken reused with other members is a conflict. */
  readonly requestHash: string;
  /** Minutes after startTime the snapshot must be completed by, or it goes to the error state. */
  readonly timeoutMinutes: number;
}

/** Where one written chunk is: a record of a segment blob, and what its AAD binds. */
export interface ChunkRef {
  readonly index: number;
  readonly blobId: string;
  /** The record's position in the segment blob (0, 1, …). */
  readonly slot: number;
  /** Unique per write of the chunk (the writing volume's counter): an older record fails the check. */
  readonly generation: number;
  /** The volume or snapshot id the chunk was sealed for (kept when a snapshot or volume shares it by reference). */
  readonly boundTo: string;
}

export interface EbsDefaults {
  readonly encryptionByDefault: boolean;
  /** undefined: alias/aws/ebs. */
  readonly defaultKmsKeyId?: string;
}

export interface VolumeListFilter {
  readonly accountId: string;
  readonly region: string;
  readonly ids?: readonly string[];
}

/** Snapshots of one account in a Region, or (no accountId) of every account there (shared and public ones). */
export interface SnapshotListFilter {
  readonly accountId?: string;
  readonly region: string;
  readonly ids?: readonly string[];
}

export interface VolumeStore {
  createVolume(v: VolumeRecord): Promise<void>;
  getVolume(volumeId: string): Promise<VolumeRecord | undefined>;
  listVolumes(filter: VolumeListFilter): Promise<VolumeRecord[]>;
  /** Every volume attached to an instance, in every account (the NBD exports). */
  attachedVolumes(): Promise<VolumeRecord[]>;
  /** Changes state/attachment/tags if the volume's state is still `expectState` (compare and set); false otherwise. */
  updateVolume(volumeId: string, expectState: VolumeState | undefined, change: Partial<Pick<VolumeRecord, 'state' | 'tags'>> & { attachment?: VolumeAttachment | null }): Promise<boolean>;
  /**
   * Read-decide-write in one transaction (the row locked): `decide` gets the volume as stored and returns what to
   * store instead; what it throws aborts the change and is rethrown (ModifyVolume's checks against a concurrent
   * modification). Resolves to the record stored, or undefined when there is no such volume. `decide` must not
   * change the volume id, account, Region, state or attachment.
   */
  reviseVolume(volumeId: string, decide: (v: VolumeRecord) => VolumeRecord): Promise<VolumeRecord | undefined>;
  /**
   * Deletes the volume and its chunk map; returns the segment blobs it referenced and those it wrote but never
   * committed (garbage candidates: collect them). deleteSnapshot likewise.
   */
  deleteVolume(volumeId: string): Promise<string[]>;

  createSnapshot(s: SnapshotRecord, chunksFrom?: string): Promise<void>;
  getSnapshot(snapshotId: string): Promise<SnapshotRecord | undefined>;
  listSnapshots(filter: SnapshotListFilter): Promise<SnapshotRecord[]>;
  /** `createVolumePermission: null` removes the attribute (ResetSnapshotAttribute). */
  updateSnapshot(snapshotId: string, change: SnapshotChange): Promise<void>;
  deleteSnapshot(snapshotId: string): Promise<string[]>;
  /** Volumes still made from the snapshot (EC2 refuses deleting a snapshot in use by an AMI; not volumes). */

  /** The chunk map of a volume or snapshot, in index order. */
  chunks(ownerId: string): Promise<ChunkRef[]>;
  /** The map entry of one chunk. */
  chunk(ownerId: string, index: number): Promise<ChunkRef | undefined>;
  /** Copies every chunk reference of `fromOwner` to `toOwner` (volume from snapshot, snapshot of volume). */
  copyChunks(fromOwner: string, toOwner: string): Promise<void>;
  /**
   * One transaction: records a committed segment blob's chunks (`put`) and forgets chunks (`drop`: zeroed) of
   * `ownerId`; returns the blobs whose chunks it replaced or dropped (garbage candidates).
   */
  commitChunks(ownerId: string, put: readonly ChunkRef[], drop: readonly number[]): Promise<string[]>;
  /** Reserves `count` generations of a volume or snapshot: returns the first; never handed out again. */
  reserveGenerations(ownerId: string, count: number): Promise<number>;
  /** Records a segment blob before it is written (so one a crash left unreferenced is found: orphanSegments). */
  addSegment(blobId: string, ownerId: string): Promise<void>;
  /** Segments of `ownerId` that no chunk references (written, never committed). */
  orphanSegments(ownerId: string): Promise<string[]>;
  /** Forgets the segment if no chunk of any volume or snapshot references it; true when it did (delete the blob). */
  dropSegmentIfUnreferenced(blobId: string): Promise<boolean>;
  /** The chunks (of any volume or snapshot) that reference the segment, at most `limit` of them (compaction). */
  segmentUsers(blobId: string, limit: number): Promise<{ ownerId: string; index: number }[]>;

  getDefaults(accountId: string, region: string): Promise<EbsDefaults>;
  putDefaults(accountId: string, region: string, d: EbsDefaults): Promise<void>;
  /** The service key that seals the data keys of volumes not encrypted under KMS, wrapped by the root of trust. */
  getServiceKey(): Promise<Buffer | undefined>;
  /** Stores it unless one exists; returns the one stored. */
  putServiceKey(wrapped: Buffer): Promise<Buffer>;
}

export type SnapshotChange = Partial<Pick<SnapshotRecord, 'state' | 'tags'>> & { readonly createVolumePermission?: CreateVolumePermission | null };

/** A snapshot record with a change applied (`createVolumePermission: null` removes it). */
export function applySnapshotChange(s: SnapshotRecord, change: SnapshotChange): SnapshotRecord {
  const { createVolumePermission, ...rest } = change;
  const next: Record<string, unknown> = { ...s, ...rest };
  if (createVolumePermission === null) delete next.createVolumePermission;
  else if (createVolumePermission !== undefined) next.createVolumePermission = createVolumePermission;
  return next as unknown as SnapshotRecord;
}

/** A volume record with a change applied (`attachment: null` detaches). */
export function applyVolumeChange(
  v: VolumeRecord,
  change: Partial<Pick<VolumeRecord, 'state' | 'tags'>> & { attachment?: VolumeRecord['attachment'] | null },
): VolumeRecord {
  const { attachment, ...rest } = change;
  const next: Record<string, unknown> = { ...v, ...rest };
  if (attachment === null) delete next.attachment;
  else if (attachment !== undefined) next.attachment = attachment;
  return next as unknown as VolumeRecord;
}
