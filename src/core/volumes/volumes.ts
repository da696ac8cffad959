import { randomBytes } from 'node:crypto';
import { KEY_BYTES } from '../crypto/aes-gcm.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { AwsError } from '../errors/aws-error.js';
import { Ec2Errors } from '../errors/ec2.js';
import { EbsDefaults, SnapshotRecord, VolumeModificationRecord, VolumeRecord, VolumeStore, WrappedDataKey } from '../../store/metadata/volume-types.js';
import { ChunkStore } from './chunk-store.js';
import { EbsServiceKey } from './service-key.js';
import { SIZE_LIMITS, provisionedPerformance, sizeOutsideLimits } from './volume-limits.js';
import { ModifyVolumeInput, modifiedVolume } from './volume-modification.js';
import { EBS_GRANT_OPERATIONS, EBS_GRANTEE, GrantUse, VolumeKmsAsCaller, VolumeKmsAsService, ebsContext } from './volume-kms.js';

export interface VolumeScope {
  readonly accountId: string;
  readonly region: string;
}

/** KMS as the caller, in a Region (CopySnapshot reads the source in its Region, writes the copy in another). */
export type KmsInRegion = (region: string) => VolumeKmsAsCaller;

export interface CreateVolumeInput {
  readonly sizeGiB?: number;
  readonly availabilityZone: string;
  readonly volumeType?: string;
  readonly iops?: number;
  readonly throughput?: number;
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  readonly snapshotId?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface CopySnapshotInput {
  readonly sourceRegion: string;
  readonly sourceSnapshotId: string;
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export const VOLUME_ID = /^vol-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
export const SNAPSHOT_ID = /^snap-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
export const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;

const newId = (prefix: string) => `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
const bad = (code: keyof typeof Ec2Errors, message: string) => new AwsError(Ec2Errors[code], message);

export function volumeNotFound(id: string): AwsError {
  return bad('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
}

/** A snapshot the EBS direct APIs are still writing (or that failed) gives no volume and no copy. */
function notPending(s: SnapshotRecord): void {
  if (s.state !== 'completed') throw bad('IncorrectState', `Snapshot '${s.snapshotId}' is not 'completed' (it is '${s.state}').`);
}

/**
 * Whether `accountId` may make volumes and copies of the snapshot: its owner, an account it is shared with, or
 * anyone when it is public (createVolumePermission group `all`).
 */
export function restorableBy(s: SnapshotRecord, accountId: string): boolean {
  return s.accountId === accountId || s.createVolumePermission?.public === true || (s.createVolumePermission?.userIds.includes(accountId) ?? false);
}

export function snapshotNotFound(id: string): AwsError {
  return bad('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
}

/**
 * EBS-style volumes and snapshots: what the EC2 API does to them (src/services/ec2). Block contents are the
 * ChunkStore's; data keys are wrapped by the volume's CMK (KMS, as the caller via EC2, with a grant for EBS) or
 * sealed by the EBS service key. AWS's rules: an encrypted snapshot gives only encrypted volumes; a volume or
 * copy may be re-keyed to another CMK (its chunks re-sealed under a new data key); encryption by default
 * applies to new volumes and copies; snapshots and volumes of the same key share chunks by reference.
 * https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html
 */
export class Volumes {
  /** Called before a snapshot of a volume is taken (VolumeExportsService: flush its device, open here or on another node). */
  beforeSnapshot: (volumeId: string) => Promise<void> = async () => undefined;
  /**
   * Called by DetachVolume once the detach is recorded (VolumeExportsService): stops the volume's device. With
   * `force` it stops at once and what was not flushed is lost; without, it resolves once the device — open in
   * this process or on another node — has made every acknowledged write durable and stopped (or nothing is open).
   */
  stopExport: (volumeId: string, force: boolean) => Promise<void> = async () => undefined;

  constructor(
    readonly store: VolumeStore,
    readonly chunks: ChunkStore,
    readonly serviceKey: EbsServiceKey,
    readonly asService: VolumeKmsAsService,
    private readonly now: () => number = Date.now,
  ) {}

  async getVolume(scope: VolumeScope, volumeId: string): Promise<VolumeRecord> {
    const v = VOLUME_ID.test(volumeId) ? await this.store.getVolume(volumeId) : undefined;
    if (!v || v.accountId !== scope.accountId || v.region !== scope.region) throw volumeNotFound(volumeId);
    return v;
  }

  async getSnapshot(scope: VolumeScope, snapshotId: string): Promise<SnapshotRecord> {
    const s = SNAPSHOT_ID.test(snapshotId) ? await this.store.getSnapshot(snapshotId) : undefined;
    if (!s || s.accountId !== scope.accountId || s.region !== scope.region) throw snapshotNotFound(snapshotId);
    return s;
  }

  /** A snapshot of the account, or shared with it or public (createVolumePermission): what CreateVolume and CopySnapshot may read. */
  async getRestorableSnapshot(scope: VolumeScope, snapshotId: string): Promise<SnapshotRecord> {
    const s = SNAPSHOT_ID.test(snapshotId) ? await this.store.getSnapshot(snapshotId) : undefined;
    if (!s || s.region !== scope.region || !restorableBy(s, scope.accountId)) throw snapshotNotFound(snapshotId);
    return s;
  }

  /**
   * ModifySnapshotAttribute's createVolumePermission (the owner only): accounts and the group `all` added or
   * removed. AWS's rules: an encrypted snapshot cannot be made public, and one encrypted under the AWS managed
   * key (aws/ebs) cannot be shared at all — the other account could never use that key; one under a customer
   * managed key can, and the other account then needs access to that key (its key policy) to use it.
   * https://docs.aws.amazon.com/ebs/latest/userguide/ebs-modifying-snapshot-permissions.html
   */
  async modifyCreateVolumePermission(scope: VolumeScope, snapshotId: string, change: { add: boolean; userIds: readonly string[]; group: boolean }): Promise<void> {
    const s = await this.getSnapshot(scope, snapshotId);
    if (change.add && change.group && s.encrypted) throw bad('OperationNotPermitted', 'Encrypted snapshots cannot be shared publicly.');
    if (change.add && change.userIds.length > 0 && s.dataKey.kind === 'kms' && (await this.asService.awsManaged(s.dataKey.keyArn))) {
      throw bad('OperationNotPermitted', 'Encrypted snapshots with EBS default key cannot be shared');
    }
    const cur = s.createVolumePermission ?? { userIds: [], public: false };
    // The owner is never listed (it may always use its own snapshot).
    const others = change.userIds.filter((id) => id !== s.accountId);
    const userIds = change.add ? [...new Set([...cur.userIds, ...others])] : cur.userIds.filter((id) => !others.includes(id));
    const isPublic = change.group ? change.add : cur.public;
    await this.store.updateSnapshot(snapshotId, { createVolumePermission: userIds.length > 0 || isPublic ? { userIds, public: isPublic } : null });
  }

  /** ResetSnapshotAttribute: the snapshot is private again (the owner only). */
  async resetCreateVolumePermission(scope: VolumeScope, snapshotId: string): Promise<void> {
    await this.getSnapshot(scope, snapshotId);
    await this.store.updateSnapshot(snapshotId, { createVolumePermission: null });
  }

  async createVolume(scope: VolumeScope, input: CreateVolumeInput, kms: KmsInRegion): Promise<VolumeRecord> {
    const snapshot = input.snapshotId !== undefined ? await this.getRestorableSnapshot(scope, input.snapshotId) : undefined;
    if (snapshot) notPending(snapshot);
    const volumeType = input.volumeType ?? 'gp2';
    const limits = SIZE_LIMITS[volumeType];
    if (!limits) throw bad('InvalidParameterValue', `Value (${volumeType}) for parameter volumeType is invalid. Valid values: ${Object.keys(SIZE_LIMITS).join(', ')}.`);
    const sizeGiB = input.sizeGiB ?? snapshot?.volumeSizeGiB;
    if (sizeGiB === undefined) throw bad('MissingParameter', 'The request must contain the parameter size/snapshot');
    const outside = sizeOutsideLimits(sizeGiB, limits);
    if (outside) throw bad('InvalidParameterValue', outside);
    if (snapshot && sizeGiB < snapshot.volumeSizeGiB) {
      throw bad('InvalidParameterValue', `Volume of ${sizeGiB}GiB is too small; minimum is ${snapshot.volumeSizeGiB}GiB.`);
    }
    // EBS's IOPS/throughput rules (volume-limits.ts, shared with ModifyVolume); gp3 gets 3,000/125 when not given.
    const performance = provisionedPerformance(volumeType, sizeGiB, { iops: input.iops, throughput: input.throughput });
    if (!new RegExp(`^${scope.region}[a-z]$`).test(input.availabilityZone)) {
      throw bad('InvalidZone.NotFound', `The zone '${input.availabilityZone}' does not exist.`);
    }
    const defaults = await this.store.getDefaults(scope.accountId, scope.region);
    const encrypted = input.encrypted === true || defaults.encryptionByDefault || snapshot?.encrypted === true;
    if (input.kmsKeyId !== undefined && !encrypted) throw bad('InvalidParameterDependency', 'The parameter KmsKeyId requires the parameter Encrypted to be set.');

    const volumeId = newId('vol');
    const base = {
      volumeId,
      accountId: scope.accountId,
      region: scope.region,
      availabilityZone: input.availabilityZone,
      sizeGiB,
      volumeType,
      ...(performance.iops !== undefined ? { iops: performance.iops } : {}),
      ...(performance.throughput !== undefined ? { throughput: performance.throughput } : {}),
      encrypted,
      ...(snapshot ? { snapshotId: snapshot.snapshotId } : {}),
      createTime: this.now(),
      tags: { ...(input.tags ?? {}) },
    };
    const caller = kms(scope.region);
    const made = await this.#keyFor(scope, volumeId, encrypted, input.kmsKeyId ?? (snapshot?.encrypted && snapshot.dataKey.kind === 'kms' ? snapshot.dataKey.keyArn : defaults.defaultKmsKeyId), snapshot, caller);
    const record: VolumeRecord = { ...base, dataKey: made.dataKey, ...(made.grantId ? { grantId: made.grantId } : {}), state: 'creating' };
    await this.store.createVolume(record);
    try {
      if (snapshot) {
        if (made.shares) await this.store.copyChunks(snapshot.snapshotId, volumeId);
        else await this.#reseal(snapshot, volumeId, made.plaintext!, caller);
      }
      await this.store.updateVolume(volumeId, 'creating', { state: 'available' });
    } catch (err) {
      await this.chunks.collect(await this.store.deleteVolume(volumeId));
      throw err;
    } finally {
      made.plaintext?.wipe();
    }
    return { ...record, state: 'available' };
  }

  async deleteVolume(scope: VolumeScope, volumeId: string): Promise<void> {
    const v = await this.getVolume(scope, volumeId);
    if (v.state === 'in-use' || v.attachment) throw bad('VolumeInUse', `Volume ${volumeId} is currently attached to ${v.attachment?.instanceId ?? 'an instance'}`);
    if (!(await this.store.updateVolume(volumeId, 'available', { state: 'deleting' }))) throw bad('IncorrectState', `The volume '${volumeId}' is not in the 'available' state.`);
    await this.chunks.collect(await this.store.deleteVolume(volumeId));
    if (v.dataKey.kind === 'kms' && v.grantId) await this.asService.retire(this.#use(v)).catch(() => undefined);
  }

  /**
   * ModifyVolume: the volume's size (only ever larger), type, IOPS and throughput changed at once — there is no
   * physical optimisation here, so the modification is 'completed' when this returns (volume-modification.ts has
   * AWS's rules). The checks and the write are one store transaction, so two concurrent modifications of a volume
   * cannot both pass the cooldown. A grown volume's NBD export has the new size from its next connection (NBD fixes
   * the size at negotiation): a client connected now keeps the old size until it reconnects.
   */
  async modifyVolume(scope: VolumeScope, volumeId: string, input: ModifyVolumeInput): Promise<VolumeModificationRecord> {
    await this.getVolume(scope, volumeId);
    const now = this.now();
    const stored = await this.store.reviseVolume(volumeId, (v) => modifiedVolume(v, input, now));
    if (!stored?.modification) throw volumeNotFound(volumeId);
    return stored.modification;
  }

  /**
   * Attaches the volume to an "instance" (any i-… id: there are none here): the NBD export appears. An encrypted
   * volume's data key is decrypted under EBS's grant first, as EC2 does at attach — a disabled or deleted CMK,
   * or a revoked grant, makes the attach fail.
   */
  async attach(scope: VolumeScope, volumeId: string, instanceId: string, device: string): Promise<VolumeRecord> {
    const v = await this.getVolume(scope, volumeId);
    if (v.state === 'in-use') throw bad('VolumeInUse', `${volumeId} is already attached to an instance`);
    if (v.state !== 'available') throw bad('IncorrectState', `vol '${volumeId}' is not 'available'.`);
    if (v.dataKey.kind === 'kms') {
      try {
        (await this.asService.decrypt(this.#use(v), Buffer.from(v.dataKey.ciphertextBlob, 'base64'), ebsContext(volumeId))).wipe();
      } catch (err) {
        throw bad('InvalidKMSKey.InvalidState', `The KMS key of volume ${volumeId} is not usable: ${err instanceof Error ? err.message : 'unknown'}`);
      }
    }
    const attachment = { instanceId, device, attachTime: this.now() };
    if (!(await this.store.updateVolume(volumeId, 'available', { state: 'in-use', attachment }))) throw bad('IncorrectState', `vol '${volumeId}' is not 'available'.`);
    return { ...v, state: 'in-use', attachment };
  }

  /**
   * DetachVolume. The InstanceId and Device named must be the attachment's (InvalidAttachment.NotFound
   * otherwise, as EC2 answers). Without `force` the detach is graceful — the attachment shows 'detaching' while
   * the device open on the volume (any node) makes what its client was acknowledged durable and stops, then the
   * volume is 'available': as an instance that unmounted first. With `force` the volume is 'available' at once
   * and the device stops after the operation it is running, dropping what was not flushed — AWS's "data loss or
   * a corrupted file system". Either way the NBD export goes and the client gets ESHUTDOWN.
   * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachVolume.html
   */
  async detach(scope: VolumeScope, volumeId: string, target: { instanceId?: string; device?: string; force?: boolean } = {}): Promise<VolumeRecord> {
    const v = await this.getVolume(scope, volumeId);
    const a = v.attachment;
    if (!a) throw bad('IncorrectState', `Volume '${volumeId}' is in the '${v.state}' state.`);
    if ((target.instanceId !== undefined && a.instanceId !== target.instanceId) || (target.device !== undefined && a.device !== target.device)) {
      const to = target.instanceId ?? a.instanceId;
      throw bad('InvalidAttachment.NotFound', `The volume '${volumeId}' is not attached to instance '${to}'${target.device !== undefined ? ` as device '${target.device}'` : ''}.`);
    }
    const detached = () => this.store.updateVolume(volumeId, 'in-use', { state: 'available', attachment: null });
    const incorrect = () => bad('IncorrectState', `Volume '${volumeId}' is in the '${v.state}' state.`);
    if (target.force === true) {
      if (!(await detached())) throw incorrect();
      await this.stopExport(volumeId, true);
      return v;
    }
    if (!(await this.store.updateVolume(volumeId, 'in-use', { attachment: { ...a, detaching: true } }))) throw incorrect();
    await this.stopExport(volumeId, false);
    // Unless a forced detach (and perhaps another attach) came meanwhile: that one decided.
    const now = await this.store.getVolume(volumeId);
    if (now?.attachment?.attachTime === a.attachTime) await detached();
    return v;
  }

  /**
   * A snapshot of what the volume holds (the device open on it is flushed first, in this process or on another
   * node: VolumeExportsService.flushOnOtherNode — one that does not answer contributes what it committed): the volume's
   * chunk map copied by reference, and the same data key wrapped for the snapshot (context aws:ebs:id = snap-…,
   * ReEncrypt under EBS's grant), as EBS does.
   */
  async createSnapshot(scope: VolumeScope, volumeId: string, description: string, tags: Readonly<Record<string, string>>): Promise<SnapshotRecord> {
    const v = await this.getVolume(scope, volumeId);
    await this.beforeSnapshot(volumeId);
    const snapshotId = newId('snap');
    let dataKey: WrappedDataKey;
    if (v.dataKey.kind === 'kms') {
      const blob = await this.asService
        .reEncrypt(this.#use(v), Buffer.from(v.dataKey.ciphertextBlob, 'base64'), ebsContext(volumeId), ebsContext(snapshotId))
        .catch((err: unknown) => {
          throw err instanceof AwsError ? bad('InvalidKMSKey.InvalidState', `The KMS key of volume ${volumeId} is not usable: ${err.message}`) : err;
        });
      dataKey = { kind: 'kms', keyArn: v.dataKey.keyArn, ciphertextBlob: blob.toString('base64') };
    } else {
      const plain = await this.serviceKey.open(v.dataKey.sealed, volumeId);
      dataKey = { kind: 'service', sealed: await this.serviceKey.seal(plain.reveal(), snapshotId) };
      plain.wipe();
    }
    const s: SnapshotRecord = {
      snapshotId, accountId: scope.accountId, region: scope.region, volumeId, volumeSizeGiB: v.sizeGiB, description, encrypted: v.encrypted, dataKey,
      state: 'completed', startTime: this.now(), tags: { ...tags },
    };
    await this.store.createSnapshot(s, volumeId);
    return s;
  }

  async deleteSnapshot(scope: VolumeScope, snapshotId: string): Promise<void> {
    await this.getSnapshot(scope, snapshotId);
    await this.chunks.collect(await this.store.deleteSnapshot(snapshotId));
  }

  /**
   * CopySnapshot into `scope` (its Region) from `input.sourceRegion`: the same data key (chunks shared) when the
   * copy stays unencrypted or keeps the source's CMK in its Region; otherwise a new data key under the copy's
   * CMK and every chunk re-sealed (the source's key is opened as the caller: kms:Decrypt on it).
   */
  async copySnapshot(scope: VolumeScope, input: CopySnapshotInput, kms: KmsInRegion): Promise<SnapshotRecord> {
    const src = await this.getRestorableSnapshot({ accountId: scope.accountId, region: input.sourceRegion }, input.sourceSnapshotId);
    notPending(src);
    const defaults = await this.store.getDefaults(scope.accountId, scope.region);
    const encrypted = src.encrypted || input.encrypted === true || defaults.encryptionByDefault;
    if (input.kmsKeyId !== undefined && !encrypted) throw bad('InvalidParameterDependency', 'The parameter KmsKeyId requires the parameter Encrypted to be set.');
    const snapshotId = newId('snap');
    const dest = kms(scope.region);
    const sameRegion = input.sourceRegion === scope.region;
    let dataKey: WrappedDataKey;
    let plaintext: SecretBytes | undefined;
    let shares = false;
    if (!encrypted) {
      const plain = await this.serviceKey.open((src.dataKey as { sealed: string }).sealed, src.snapshotId);
      dataKey = { kind: 'service', sealed: await this.serviceKey.seal(plain.reveal(), snapshotId) };
      plain.wipe();
      shares = true;
    } else {
      const keyId = input.kmsKeyId ?? (src.dataKey.kind === 'kms' && sameRegion ? src.dataKey.keyArn : (defaults.defaultKmsKeyId ?? (await dest.awsManagedKeyArn())));
      if (src.dataKey.kind === 'kms' && sameRegion && (await this.#sameKey(dest, keyId, src.dataKey.keyArn))) {
        const re = await dest.reEncrypt(Buffer.from(src.dataKey.ciphertextBlob, 'base64'), ebsContext(src.snapshotId), src.dataKey.keyArn, ebsContext(snapshotId));
        dataKey = { kind: 'kms', keyArn: re.keyArn, ciphertextBlob: re.ciphertextBlob.toString('base64') };
        shares = true;
      } else {
        const made = await dest.generateDataKeyWithoutPlaintext(keyId, ebsContext(snapshotId));
        dataKey = { kind: 'kms', keyArn: made.keyArn, ciphertextBlob: made.ciphertextBlob.toString('base64') };
        plaintext = (await dest.decrypt(made.ciphertextBlob, ebsContext(snapshotId))).plaintext;
      }
    }
    const s: SnapshotRecord = {
      snapshotId, accountId: scope.accountId, region: scope.region, volumeId: src.volumeId, volumeSizeGiB: src.volumeSizeGiB,
      description: input.description ?? `[Copied ${snapshotId} from ${input.sourceRegion}:${src.snapshotId}]`, encrypted, dataKey,
      state: shares ? 'completed' : 'pending', startTime: this.now(), tags: { ...(input.tags ?? {}) },
    };
    try {
      await this.store.createSnapshot(s, shares ? src.snapshotId : undefined);
      if (!shares) {
        await this.#reseal(src, snapshotId, plaintext!, kms(input.sourceRegion));
        await this.store.updateSnapshot(snapshotId, { state: 'completed' });
      }
    } catch (err) {
      await this.chunks.collect(await this.store.deleteSnapshot(snapshotId));
      throw err;
    } finally {
      plaintext?.wipe();
    }
    return { ...s, state: 'completed' };
  }

  getDefaults(scope: VolumeScope): Promise<EbsDefaults> {
    return this.store.getDefaults(scope.accountId, scope.region);
  }

  async putDefaults(scope: VolumeScope, change: { encryptionByDefault?: boolean; defaultKmsKeyId?: string | null }): Promise<EbsDefaults> {
    const cur = await this.getDefaults(scope);
    const keyId = change.defaultKmsKeyId === null ? undefined : (change.defaultKmsKeyId ?? cur.defaultKmsKeyId);
    const next: EbsDefaults = { encryptionByDefault: change.encryptionByDefault ?? cur.encryptionByDefault, ...(keyId !== undefined ? { defaultKmsKeyId: keyId } : {}) };
    await this.store.putDefaults(scope.accountId, scope.region, next);
    return next;
  }

  #use(v: VolumeRecord): GrantUse {
    const k = v.dataKey as { keyArn: string };
    return { accountId: v.accountId, region: v.region, keyArn: k.keyArn, grantId: v.grantId ?? '', resourceId: v.volumeId };
  }

  /** Whether `keyId` (id, ARN, alias) names the key `keyArn`, without a KMS call when it is plainly so. */
  async #sameKey(_kms: VolumeKmsAsCaller, keyId: string, keyArn: string): Promise<boolean> {
    return keyId === keyArn || keyArn.endsWith(`:key/${keyId}`);
  }

  /**
   * A new volume's data key: `shares` when it keeps the snapshot's data key (chunks shared by reference),
   * otherwise `plaintext` is the new key to re-seal the snapshot's chunks with (the caller wipes it).
   */
  async #keyFor(
    scope: VolumeScope,
    volumeId: string,
    encrypted: boolean,
    keyId: string | undefined,
    snapshot: SnapshotRecord | undefined,
    kms: VolumeKmsAsCaller,
  ): Promise<{ dataKey: WrappedDataKey; grantId?: string; shares: boolean; plaintext?: SecretBytes }> {
    if (!encrypted) {
      if (snapshot) {
        const plain = await this.serviceKey.open((snapshot.dataKey as { sealed: string }).sealed, snapshot.snapshotId);
        const sealed = await this.serviceKey.seal(plain.reveal(), volumeId);
        plain.wipe();
        return { dataKey: { kind: 'service', sealed }, shares: true };
      }
      const plain = randomBytes(KEY_BYTES);
      const sealed = await this.serviceKey.seal(plain, volumeId);
      plain.fill(0);
      return { dataKey: { kind: 'service', sealed }, shares: false };
    }
    const ref = keyId ?? (await kms.awsManagedKeyArn());
    const grant = (keyArn: string) => kms.createGrant(keyArn, { granteePrincipal: EBS_GRANTEE, retiringPrincipal: EBS_GRANTEE, operations: EBS_GRANT_OPERATIONS });
    if (snapshot?.dataKey.kind === 'kms' && (await this.#sameKey(kms, ref, snapshot.dataKey.keyArn))) {
      // Same CMK: the snapshot's data key, wrapped for the volume (ReEncrypt as the caller), chunks shared.
      const re = await kms.reEncrypt(Buffer.from(snapshot.dataKey.ciphertextBlob, 'base64'), ebsContext(snapshot.snapshotId), snapshot.dataKey.keyArn, ebsContext(volumeId));
      const grantId = await grant(re.keyArn);
      return { dataKey: { kind: 'kms', keyArn: re.keyArn, ciphertextBlob: re.ciphertextBlob.toString('base64') }, grantId, shares: true };
    }
    const made = await kms.generateDataKeyWithoutPlaintext(ref, ebsContext(volumeId));
    const grantId = await grant(made.keyArn);
    const dataKey: WrappedDataKey = { kind: 'kms', keyArn: made.keyArn, ciphertextBlob: made.ciphertextBlob.toString('base64') };
    if (!snapshot) return { dataKey, grantId, shares: false };
    // Re-keyed from a snapshot: EBS opens the new data key under its new grant to re-seal the chunks.
    const use: GrantUse = { accountId: scope.accountId, region: scope.region, keyArn: made.keyArn, grantId, resourceId: volumeId };
    const plaintext = await this.asService.decrypt(use, made.ciphertextBlob, ebsContext(volumeId));
    return { dataKey, grantId, shares: false, plaintext };
  }

  /** Re-seals the chunks of `src` for `toOwner` under `toKey`; the source key opened as the caller (KMS) or the service. */
  async #reseal(src: SnapshotRecord, toOwner: string, toKey: SecretBytes, kms: VolumeKmsAsCaller): Promise<void> {
    const from =
      src.dataKey.kind === 'kms'
        ? (await kms.decrypt(Buffer.from(src.dataKey.ciphertextBlob, 'base64'), ebsContext(src.snapshotId))).plaintext
        : await this.serviceKey.open(src.dataKey.sealed, src.snapshotId);
    try {
      await this.chunks.reseal(src.snapshotId, from.reveal(), toOwner, toKey.reveal());
    } finally {
      from.wipe();
    }
  }
}
