import { createHash, randomBytes } from 'node:crypto';
import { KEY_BYTES } from '../crypto/aes-gcm.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { ebsError } from '../errors/ebs.js';
import { ChunkRef, SnapshotRecord, WrappedDataKey } from '../../store/metadata/volume-types.js';
import { CHUNK_BYTES, CHUNKS_PER_EBS_BLOCK, EBS_BLOCK_BYTES } from './chunks.js';
import { VolumeKmsAsCaller, ebsContext } from './volume-kms.js';
import { SNAPSHOT_ID, VolumeScope, Volumes } from './volumes.js';

/** The largest snapshot StartSnapshot accepts, GiB (64 TiB, as EBS). */
export const MAX_DIRECT_VOLUME_GIB = 65536;
/** What EC2 shows as the VolumeId of a snapshot not taken of a volume. */
export const NO_VOLUME_ID = 'vol-ffffffff';
const BLOCKS_PER_GIB = 2 ** 30 / EBS_BLOCK_BYTES;
const DEFAULT_TIMEOUT_MINUTES = 60;

export interface StartSnapshotInput {
  readonly volumeSizeGiB: number;
  readonly parentSnapshotId?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly description?: string;
  readonly clientToken?: string;
  readonly encrypted?: boolean;
  readonly kmsKeyArn?: string;
  readonly timeoutMinutes?: number;
}

/** One written 512 KiB block of a snapshot: its index and the token GetSnapshotBlock takes. */
export interface SnapshotBlock {
  readonly index: number;
  readonly token: string;
}

export interface ChangedBlock {
  readonly index: number;
  readonly firstToken?: string;
  readonly secondToken?: string;
}

/**
 * The EBS direct APIs over the volume store's snapshots (https://docs.aws.amazon.com/ebs/latest/APIReference/):
 * a snapshot started here is an ordinary snapshot (DescribeSnapshots shows it, CreateVolume makes volumes of
 * it) whose 512 KiB block n is chunks 8n…8n+7 of the chunk store, sealed the same way (bound to the
 * snapshot id, a fresh generation per write). A block token names the chunk records of a block (their
 * owner and generation): two snapshots sharing a block by reference give it the same token, so
 * ListChangedBlocks lists exactly the blocks written in between. Data keys are the volume store's: a KMS
 * CiphertextBlob opened as the caller (context aws:ebs:id = snap-…), or the EBS service key's seal.
 */
export class DirectSnapshots {
  constructor(
    private readonly volumes: Volumes,
    private readonly now: () => number = Date.now,
  ) {}

  async start(scope: VolumeScope, input: StartSnapshotInput, kms: VolumeKmsAsCaller): Promise<SnapshotRecord> {
    const requestHash = createHash('sha256')
      .update(JSON.stringify([input.volumeSizeGiB, input.parentSnapshotId ?? null, input.tags, input.description ?? null, input.encrypted ?? null, input.kmsKeyArn ?? null, input.timeoutMinutes ?? null]))
      .digest('base64');
    if (input.clientToken !== undefined) {
      const earlier = (await this.volumes.store.listSnapshots(scope)).find((s) => s.direct?.clientToken === input.clientToken);
      if (earlier) {
        // The same request again (a retry) answers the snapshot it made; other members with that token conflict.
        if (earlier.direct!.requestHash !== requestHash) throw ebsError('ConflictException', 'The request uses the same client token as a previous, but non-identical request.');
        return earlier;
      }
    }
    if (input.volumeSizeGiB > MAX_DIRECT_VOLUME_GIB) throw ebsError('ValidationException', `The volume size must be at most ${MAX_DIRECT_VOLUME_GIB} GiB.`, 'INVALID_VOLUME_SIZE');
    const parent = input.parentSnapshotId !== undefined ? await this.#snapshot(scope, input.parentSnapshotId) : undefined;
    if (parent && parent.state !== 'completed') throw ebsError('ValidationException', `The parent snapshot ${parent.snapshotId} is not completed.`, 'INVALID_SNAPSHOT_ID');
    if (parent && input.volumeSizeGiB < parent.volumeSizeGiB) {
      throw ebsError('ValidationException', `The volume size must be at least the parent snapshot's (${parent.volumeSizeGiB} GiB).`, 'INVALID_VOLUME_SIZE');
    }
    const defaults = await this.volumes.getDefaults(scope);
    if (input.encrypted === false && defaults.encryptionByDefault) {
      throw ebsError('ValidationException', 'Encryption by default is enabled for the account: Encrypted cannot be false.', 'INVALID_PARAMETER_VALUE');
    }
    if (input.kmsKeyArn !== undefined && input.encrypted !== true) {
      throw ebsError('ValidationException', 'KmsKeyArn requires Encrypted to be true.', 'INVALID_PARAMETER_VALUE');
    }
    if (parent?.dataKey.kind === 'kms' && input.kmsKeyArn !== undefined && input.kmsKeyArn !== parent.dataKey.keyArn) {
      throw ebsError('ValidationException', 'A snapshot with a parent is encrypted under the parent\'s KMS key: omit KmsKeyArn or name that key.', 'INVALID_PARAMETER_VALUE');
    }
    const encrypted = input.encrypted === true || defaults.encryptionByDefault || parent?.encrypted === true;

    const snapshotId = `snap-${randomBytes(9).toString('hex').slice(0, 17)}`;
    let dataKey: WrappedDataKey;
    let shares = parent !== undefined;
    let reseal: SecretBytes | undefined;
    if (!encrypted) {
      const plain = parent ? await this.#openKey(parent, kms) : SecretBytes.adopt(randomBytes(KEY_BYTES));
      dataKey = { kind: 'service', sealed: await this.volumes.serviceKey.seal(plain.reveal(), snapshotId) };
      plain.wipe();
    } else if (parent?.dataKey.kind === 'kms') {
      // The parent's data key, wrapped for the new snapshot (ReEncrypt as the caller): the blocks are shared.
      const re = await kms.reEncrypt(Buffer.from(parent.dataKey.ciphertextBlob, 'base64'), ebsContext(parent.snapshotId), parent.dataKey.keyArn, ebsContext(snapshotId));
      dataKey = { kind: 'kms', keyArn: re.keyArn, ciphertextBlob: re.ciphertextBlob.toString('base64') };
    } else {
      const keyId = input.kmsKeyArn ?? defaults.defaultKmsKeyId ?? (await kms.awsManagedKeyArn());
      const made = await kms.generateDataKeyWithoutPlaintext(keyId, ebsContext(snapshotId));
      dataKey = { kind: 'kms', keyArn: made.keyArn, ciphertextBlob: made.ciphertextBlob.toString('base64') };
      if (parent) {
        // An unencrypted parent under a new CMK: its blocks are re-sealed under the new data key.
        reseal = (await kms.decrypt(made.ciphertextBlob, ebsContext(snapshotId))).plaintext;
        shares = false;
      }
    }
    const s: SnapshotRecord = {
      snapshotId,
      accountId: scope.accountId,
      region: scope.region,
      volumeId: parent?.volumeId ?? NO_VOLUME_ID,
      volumeSizeGiB: input.volumeSizeGiB,
      description: input.description ?? '',
      encrypted,
      dataKey,
      state: 'pending',
      startTime: this.now(),
      tags: { ...input.tags },
      direct: {
        ...(parent ? { parentSnapshotId: parent.snapshotId } : {}),
        ...(input.clientToken !== undefined ? { clientToken: input.clientToken } : {}),
        requestHash,
        timeoutMinutes: input.timeoutMinutes ?? DEFAULT_TIMEOUT_MINUTES,
      },
    };
    try {
      await this.volumes.store.createSnapshot(s, shares ? parent!.snapshotId : undefined);
      if (reseal) {
        const from = await this.#openKey(parent!, kms);
        try {
          await this.volumes.chunks.reseal(parent!.snapshotId, from.reveal(), snapshotId, reseal.reveal());
        } finally {
          from.wipe();
        }
      }
    } catch (err) {
      await this.volumes.chunks.collect(await this.volumes.store.deleteSnapshot(snapshotId));
      throw err;
    } finally {
      reseal?.wipe();
    }
    return s;
  }

  /**
   * Writes block `index` of a pending snapshot: `data` is 512 KiB whose SHA-256 is `checksum` (base64). The
   * eight chunks are sealed into one segment and committed together, durable before the call returns.
   */
  async putBlock(scope: VolumeScope, snapshotId: string, index: number, data: Buffer, dataLength: number, checksum: string, kms: VolumeKmsAsCaller): Promise<void> {
    const s = await this.#pending(scope, snapshotId);
    this.#checkIndex(s, index);
    if (dataLength !== EBS_BLOCK_BYTES) throw ebsError('ValidationException', `DataLength must be ${EBS_BLOCK_BYTES} bytes.`, 'INVALID_PARAMETER_VALUE');
    if (data.length !== dataLength) throw ebsError('ValidationException', `The block data is ${data.length} bytes; DataLength says ${dataLength}.`, 'INVALID_PARAMETER_VALUE');
    if (createHash('sha256').update(data).digest('base64') !== checksum) {
      throw ebsError('ValidationException', 'The checksum of the block data does not match the Checksum provided.', 'INVALID_PARAMETER_VALUE');
    }
    const key = await this.#openKey(s, kms);
    const { chunks, store } = this.volumes;
    try {
      const first = await store.reserveGenerations(snapshotId, CHUNKS_PER_EBS_BLOCK);
      let next = first;
      const parts = Array.from({ length: CHUNKS_PER_EBS_BLOCK }, (_, i) => ({ index: index * CHUNKS_PER_EBS_BLOCK + i, plaintext: data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES) }));
      const refs = await chunks.writeSegments(snapshotId, key.reveal(), parts, async () => next++);
      const replaced = await store.commitChunks(snapshotId, refs, []);
      await chunks.durable();
      await chunks.collect(replaced);
    } finally {
      key.wipe();
    }
  }

  /**
   * Seals the snapshot: `changedBlocksCount` must be the number of blocks written to it, and a `checksum`
   * (LINEAR SHA256) the SHA-256 of the written blocks' SHA-256 digests in block order — the raw digests
   * concatenated (as AWS's SDK samples and coldsnap compute it) or their base64 forms.
   */
  async complete(scope: VolumeScope, snapshotId: string, changedBlocksCount: number, checksum: string | undefined, kms: VolumeKmsAsCaller): Promise<SnapshotRecord> {
    const found = await this.#snapshot(scope, snapshotId);
    if (found.state === 'completed') return found;
    const s = await this.#pending(scope, snapshotId);
    const written = groupBlocks((await this.volumes.store.chunks(snapshotId)).filter((r) => r.boundTo === snapshotId));
    if (written.size !== changedBlocksCount) {
      throw ebsError('ValidationException', `ChangedBlocksCount is ${changedBlocksCount} but ${written.size} blocks were written to the snapshot.`, 'INVALID_PARAMETER_VALUE');
    }
    if (checksum !== undefined) {
      const key = await this.#openKey(s, kms);
      const raw = createHash('sha256');
      const text = createHash('sha256');
      try {
        for (const index of [...written.keys()].sort((a, b) => a - b)) {
          const digest = createHash('sha256').update(await this.#readBlock(s, written.get(index)!, key)).digest();
          raw.update(digest);
          text.update(digest.toString('base64'));
        }
      } finally {
        key.wipe();
      }
      if (checksum !== raw.digest('base64') && checksum !== text.digest('base64')) {
        throw ebsError('ValidationException', 'The aggregated checksum does not match the blocks written to the snapshot.', 'INVALID_PARAMETER_VALUE');
      }
    }
    await this.volumes.store.updateSnapshot(snapshotId, { state: 'completed' });
    return { ...s, state: 'completed' };
  }

  /** The written blocks of a completed snapshot from `startIndex`, at most `max`, and the next index if more. */
  async listBlocks(scope: VolumeScope, snapshotId: string, startIndex: number, max: number): Promise<{ snapshot: SnapshotRecord; blocks: SnapshotBlock[]; next?: number }> {
    const s = await this.#completed(scope, snapshotId);
    const all = [...groupBlocks(await this.volumes.store.chunks(snapshotId))].filter(([i]) => i >= startIndex).sort((a, b) => a[0] - b[0]);
    const page = all.slice(0, max).map(([index, refs]) => ({ index, token: blockToken(refs) }));
    return { snapshot: s, blocks: page, ...(all.length > max ? { next: all[max]![0] } : {}) };
  }

  /**
   * The blocks that differ between `firstId` (or an empty snapshot) and `secondId`, which must be of one
   * lineage (the same volume, or one started from the other's line with ParentSnapshotId).
   */
  async listChanged(scope: VolumeScope, firstId: string | undefined, secondId: string, startIndex: number, max: number): Promise<{ snapshot: SnapshotRecord; blocks: ChangedBlock[]; next?: number }> {
    const second = await this.#completed(scope, secondId);
    const first = firstId !== undefined ? await this.#completed(scope, firstId) : undefined;
    if (first && first.volumeId !== second.volumeId) {
      throw ebsError('ValidationException', `The snapshots ${first.snapshotId} and ${second.snapshotId} are not of the same volume or snapshot lineage.`, 'UNRELATED_SNAPSHOTS');
    }
    const a = first ? groupBlocks(await this.volumes.store.chunks(first.snapshotId)) : new Map<number, ChunkRef[]>();
    const b = groupBlocks(await this.volumes.store.chunks(secondId));
    const indexes = [...new Set([...a.keys(), ...b.keys()])].filter((i) => i >= startIndex).sort((x, y) => x - y);
    const changed: ChangedBlock[] = [];
    for (const index of indexes) {
      const ta = a.has(index) ? blockToken(a.get(index)!) : undefined;
      const tb = b.has(index) ? blockToken(b.get(index)!) : undefined;
      if (ta === tb) continue;
      if (changed.length === max) return { snapshot: second, blocks: changed, next: index };
      changed.push({ index, ...(ta !== undefined ? { firstToken: ta } : {}), ...(tb !== undefined ? { secondToken: tb } : {}) });
    }
    return { snapshot: second, blocks: changed };
  }

  /** Block `index` of a completed snapshot, if `token` names its current content (ValidationException otherwise). */
  async getBlock(scope: VolumeScope, snapshotId: string, index: number, token: string, kms: VolumeKmsAsCaller): Promise<Buffer> {
    const s = await this.#completed(scope, snapshotId);
    this.#checkIndex(s, index);
    const refs = groupBlocks(await this.volumes.store.chunks(snapshotId)).get(index);
    if (!refs || blockToken(refs) !== token) throw ebsError('ValidationException', 'The block token is not valid for this block of the snapshot.', 'INVALID_BLOCK_TOKEN');
    const key = await this.#openKey(s, kms);
    try {
      return await this.#readBlock(s, refs, key);
    } finally {
      key.wipe();
    }
  }

  async #readBlock(s: SnapshotRecord, refs: readonly ChunkRef[], key: SecretBytes): Promise<Buffer> {
    const plains = await this.volumes.chunks.readChunks(s.snapshotId, key.reveal(), refs);
    const out = Buffer.alloc(EBS_BLOCK_BYTES);
    refs.forEach((r, i) => {
      plains[i]!.copy(out, (r.index % CHUNKS_PER_EBS_BLOCK) * CHUNK_BYTES);
      plains[i]!.fill(0);
    });
    return out;
  }

  #checkIndex(s: SnapshotRecord, index: number): void {
    if (index >= s.volumeSizeGiB * BLOCKS_PER_GIB) {
      throw ebsError('ValidationException', `The block index ${index} is beyond the end of the snapshot (${s.volumeSizeGiB * BLOCKS_PER_GIB} blocks).`, 'INVALID_BLOCK');
    }
  }

  async #snapshot(scope: VolumeScope, snapshotId: string): Promise<SnapshotRecord> {
    const s = SNAPSHOT_ID.test(snapshotId) ? await this.volumes.store.getSnapshot(snapshotId) : undefined;
    if (!s || s.accountId !== scope.accountId || s.region !== scope.region) {
      throw ebsError('ResourceNotFoundException', `The snapshot '${snapshotId}' does not exist.`, 'SNAPSHOT_NOT_FOUND');
    }
    return s;
  }

  /** A snapshot still accepting blocks; one past its Timeout goes to the error state (as EBS does). */
  async #pending(scope: VolumeScope, snapshotId: string): Promise<SnapshotRecord> {
    const s = await this.#snapshot(scope, snapshotId);
    if (s.state === 'pending' && s.direct && this.now() > s.startTime + s.direct.timeoutMinutes * 60_000) {
      await this.volumes.store.updateSnapshot(snapshotId, { state: 'error' });
      throw ebsError('ValidationException', `The snapshot ${snapshotId} was not completed within its timeout of ${s.direct.timeoutMinutes} minutes.`, 'WRITE_REQUEST_TIMEOUT');
    }
    if (s.state !== 'pending' || !s.direct) throw ebsError('ValidationException', `The snapshot ${snapshotId} is not in the pending state.`, 'INVALID_SNAPSHOT_ID');
    return s;
  }

  async #completed(scope: VolumeScope, snapshotId: string): Promise<SnapshotRecord> {
    const s = await this.#snapshot(scope, snapshotId);
    if (s.state !== 'completed') throw ebsError('ValidationException', `The snapshot ${snapshotId} is not completed.`, 'INVALID_SNAPSHOT_ID');
    return s;
  }

  /** The snapshot's data key: KMS Decrypt as the caller (kms:Decrypt on the CMK), or the service key's seal. */
  async #openKey(s: SnapshotRecord, kms: VolumeKmsAsCaller): Promise<SecretBytes> {
    if (s.dataKey.kind === 'service') return this.volumes.serviceKey.open(s.dataKey.sealed, s.snapshotId);
    return (await kms.decrypt(Buffer.from(s.dataKey.ciphertextBlob, 'base64'), ebsContext(s.snapshotId))).plaintext;
  }
}

/** Chunk references grouped by 512 KiB block, each group in chunk order. */
function groupBlocks(refs: readonly ChunkRef[]): Map<number, ChunkRef[]> {
  const out = new Map<number, ChunkRef[]>();
  for (const r of refs) {
    const b = Math.floor(r.index / CHUNKS_PER_EBS_BLOCK);
    let list = out.get(b);
    if (!list) out.set(b, (list = []));
    list.push(r);
  }
  for (const list of out.values()) list.sort((x, y) => x.index - y.index);
  return out;
}

/**
 * A block's token: a digest of which chunk records hold it (owner and generation per chunk). Not a secret —
 * reading with it still needs ebs:GetSnapshotBlock on the snapshot — and equal exactly when two snapshots
 * share the block's records.
 */
export function blockToken(refs: readonly ChunkRef[]): string {
  const h = createHash('sha256').update('strongroom ebs block v1');
  for (const r of refs) h.update(`\0${r.index}:${r.boundTo}:${r.generation}`);
  return h.digest('base64');
}
