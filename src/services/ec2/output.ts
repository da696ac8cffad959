import { shownIops } from '../../core/volumes/volume-limits.js';
import { SnapshotRecord, VolumeModificationRecord, VolumeRecord } from '../../store/metadata/volume-types.js';

const tagList = (tags: Readonly<Record<string, string>>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** A volume as EC2's Volume shape shows it. */
export function volumeOutput(v: VolumeRecord): Record<string, unknown> {
  return {
    ...(shownIops(v) !== undefined ? { Iops: shownIops(v) } : {}),
    ...(Object.keys(v.tags).length > 0 ? { Tags: tagList(v.tags) } : {}),
    VolumeType: v.volumeType,
    MultiAttachEnabled: false,
    ...(v.throughput !== undefined ? { Throughput: v.throughput } : {}),
    VolumeId: v.volumeId,
    Size: v.sizeGiB,
    SnapshotId: v.snapshotId ?? '',
    AvailabilityZone: v.availabilityZone,
    State: v.state,
    CreateTime: v.createTime,
    Attachments: v.attachment ? [attachmentOutput(v, v.attachment.detaching ? 'detaching' : 'attached')] : [],
    Encrypted: v.encrypted,
    ...(v.dataKey.kind === 'kms' ? { KmsKeyId: v.dataKey.keyArn } : {}),
  };
}

export function attachmentOutput(v: VolumeRecord, state: string): Record<string, unknown> {
  const a = v.attachment!;
  return { DeleteOnTermination: false, VolumeId: v.volumeId, InstanceId: a.instanceId, Device: a.device, State: state, AttachTime: a.attachTime };
}

/** A snapshot as EC2's Snapshot shape shows it. */
export function snapshotOutput(s: SnapshotRecord): Record<string, unknown> {
  return {
    ...(Object.keys(s.tags).length > 0 ? { Tags: tagList(s.tags) } : {}),
    StorageTier: 'standard',
    SnapshotId: s.snapshotId,
    VolumeId: s.volumeId,
    State: s.state,
    StartTime: s.startTime,
    Progress: s.state === 'completed' ? '100%' : '0%',
    OwnerId: s.accountId,
    Description: s.description,
    VolumeSize: s.volumeSizeGiB,
    Encrypted: s.encrypted,
    ...(s.dataKey.kind === 'kms' ? { KmsKeyId: s.dataKey.keyArn } : {}),
  };
}

/** A volume modification as EC2's VolumeModification shape shows it (Multi-Attach is never on here). */
export function modificationOutput(volumeId: string, m: VolumeModificationRecord): Record<string, unknown> {
  const done = m.state === 'completed';
  return {
    VolumeId: volumeId,
    ModificationState: m.state,
    TargetSize: m.target.sizeGiB,
    ...(shownIops(m.target) !== undefined ? { TargetIops: shownIops(m.target) } : {}),
    TargetVolumeType: m.target.volumeType,
    ...(m.target.throughput !== undefined ? { TargetThroughput: m.target.throughput } : {}),
    TargetMultiAttachEnabled: false,
    OriginalSize: m.original.sizeGiB,
    ...(shownIops(m.original) !== undefined ? { OriginalIops: shownIops(m.original) } : {}),
    OriginalVolumeType: m.original.volumeType,
    ...(m.original.throughput !== undefined ? { OriginalThroughput: m.original.throughput } : {}),
    OriginalMultiAttachEnabled: false,
    Progress: done ? 100 : 0,
    StartTime: m.startTime,
    ...(m.endTime !== undefined ? { EndTime: m.endTime } : {}),
  };
}
