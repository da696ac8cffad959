import { SnapshotRecord, VolumeRecord } from '../../store/metadata/volume-types.js';

const tagList = (tags: Readonly<Record<string, string>>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** A volume as EC2's Volume shape shows it. */
export function volumeOutput(v: VolumeRecord): Record<string, unknown> {
  return {
    ...(v.iops !== undefined ? { Iops: v.iops } : {}),
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
