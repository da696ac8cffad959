import { AwsError } from '../../core/errors/aws-error.js';
import { Ec2Errors } from '../../core/errors/ec2.js';
import { INSTANCE_ID, VOLUME_ID } from '../../core/volumes/volumes.js';
import { VolumeRecord } from '../../store/metadata/volume-types.js';
import { Ec2Call, ec2Arn, ec2Operation, tagsFor } from './call.js';
import { Filter, matcher, page } from './filters.js';
import { attachmentOutput, volumeOutput } from './output.js';

type TagSpecs = { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[];

export function checkVolumeId(id: string): void {
  if (!VOLUME_ID.test(id)) throw new AwsError(Ec2Errors['InvalidVolumeID.Malformed'], `Invalid id: "${id.slice(0, 64)}" (expecting "vol-...")`);
}

function checkInstanceId(id: string): void {
  if (!INSTANCE_ID.test(id)) throw new AwsError(Ec2Errors['InvalidInstanceID.Malformed'], `Invalid id: "${id.slice(0, 64)}" (expecting "i-...")`);
}

/** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html */
export const CreateVolume = ec2Operation<{
  AvailabilityZone?: string; Size?: number; Encrypted?: boolean; KmsKeyId?: string; SnapshotId?: string; VolumeType?: string; Iops?: number; Throughput?: number; TagSpecifications?: TagSpecs;
}>({
  name: 'CreateVolume',
  readOnly: false,
  resources: (input, call) => [ec2Arn(call.scope, 'volume', '*'), ...(input.SnapshotId !== undefined ? [ec2Arn(call.scope, 'snapshot', input.SnapshotId)] : [])],
  handle: async (input, call) => {
    if (input.AvailabilityZone === undefined) throw new AwsError(Ec2Errors.MissingParameter, 'The request must contain the parameter AvailabilityZone');
    const v = await call.volumes.createVolume(
      call.scope,
      {
        availabilityZone: input.AvailabilityZone,
        ...(input.Size !== undefined ? { sizeGiB: input.Size } : {}),
        ...(input.VolumeType !== undefined ? { volumeType: input.VolumeType } : {}),
        ...(input.Iops !== undefined ? { iops: input.Iops } : {}),
        ...(input.Throughput !== undefined ? { throughput: input.Throughput } : {}),
        ...(input.Encrypted !== undefined ? { encrypted: input.Encrypted } : {}),
        ...(input.KmsKeyId !== undefined ? { kmsKeyId: input.KmsKeyId } : {}),
        ...(input.SnapshotId !== undefined ? { snapshotId: input.SnapshotId } : {}),
        tags: tagsFor(input.TagSpecifications, 'volume'),
      },
      call.kms,
    );
    // EC2 answers while the volume is still being created; ours is ready at once, but the answer says 'creating' as AWS's does.
    return { ...volumeOutput(v), State: 'creating' };
  },
});

const VOLUME_FIELDS = {
  'attachment.attach-time': (v: VolumeRecord) => (v.attachment ? new Date(v.attachment.attachTime).toISOString() : undefined),
  'attachment.delete-on-termination': (v: VolumeRecord) => (v.attachment ? 'false' : undefined),
  'attachment.device': (v: VolumeRecord) => v.attachment?.device,
  'attachment.instance-id': (v: VolumeRecord) => v.attachment?.instanceId,
  'attachment.status': (v: VolumeRecord) => (v.attachment ? (v.attachment.detaching ? 'detaching' : 'attached') : undefined),
  'availability-zone': (v: VolumeRecord) => v.availabilityZone,
  'create-time': (v: VolumeRecord) => new Date(v.createTime).toISOString(),
  encrypted: (v: VolumeRecord) => String(v.encrypted),
  'multi-attach-enabled': () => 'false',
  size: (v: VolumeRecord) => String(v.sizeGiB),
  'snapshot-id': (v: VolumeRecord) => v.snapshotId ?? '',
  status: (v: VolumeRecord) => v.state,
  'volume-id': (v: VolumeRecord) => v.volumeId,
  'volume-type': (v: VolumeRecord) => v.volumeType,
  'kms-key-id': (v: VolumeRecord) => (v.dataKey.kind === 'kms' ? v.dataKey.keyArn : undefined),
};

/**
 * The caller's volumes a Describe… call of volumes looks at: those VolumeIds names (each must exist:
 * InvalidVolume.NotFound naming the missing ones), or all. `idsOrPaging`: VolumeIds with MaxResults is refused
 * (DescribeVolumes: "You cannot specify this parameter and the volume IDs parameter in the same request";
 * DescribeVolumesModifications' reference has no such rule).
 */
export async function describedVolumes(input: { VolumeIds?: string[]; MaxResults?: number }, call: Ec2Call, idsOrPaging: boolean): Promise<VolumeRecord[]> {
  if (idsOrPaging && input.MaxResults !== undefined && input.VolumeIds !== undefined) {
    throw new AwsError(Ec2Errors.InvalidParameterCombination, 'The parameter volumeSet cannot be used with the parameter maxResults');
  }
  input.VolumeIds?.forEach(checkVolumeId);
  const all = await call.volumes.store.listVolumes({ ...call.scope, ...(input.VolumeIds ? { ids: input.VolumeIds } : {}) });
  const missing = (input.VolumeIds ?? []).filter((id) => !all.some((v) => v.volumeId === id));
  if (missing.length > 0) throw new AwsError(Ec2Errors['InvalidVolume.NotFound'], `The volume${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist.`);
  return all;
}

/** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVolumes.html */
export const DescribeVolumes = ec2Operation<{ VolumeIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string }>({
  name: 'DescribeVolumes',
  readOnly: true,
  resources: () => ['*'],
  handle: async (input, call) => {
    const shown = (await describedVolumes(input, call, true)).filter(matcher(input.Filters, VOLUME_FIELDS));
    const p = page(shown, (v) => v.volumeId, input.MaxResults, input.NextToken, { min: 5, max: 500 });
    return { Volumes: p.items.map(volumeOutput), ...(p.nextToken ? { NextToken: p.nextToken } : {}) };
  },
});

/** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVolume.html */
export const DeleteVolume = ec2Operation<{ VolumeId: string }>({
  name: 'DeleteVolume',
  readOnly: false,
  resources: (input, call) => [ec2Arn(call.scope, 'volume', input.VolumeId)],
  handle: async (input, call) => {
    checkVolumeId(input.VolumeId);
    await call.volumes.deleteVolume(call.scope, input.VolumeId);
    return {};
  },
});

/**
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AttachVolume.html — there are no instances here:
 * any i-… id names one, and attaching makes the volume's NBD export exist.
 */
export const AttachVolume = ec2Operation<{ VolumeId: string; InstanceId: string; Device: string }>({
  name: 'AttachVolume',
  readOnly: false,
  resources: (input, call) => [ec2Arn(call.scope, 'instance', input.InstanceId), ec2Arn(call.scope, 'volume', input.VolumeId)],
  handle: async (input, call) => {
    checkVolumeId(input.VolumeId);
    checkInstanceId(input.InstanceId);
    const v = await call.volumes.attach(call.scope, input.VolumeId, input.InstanceId, input.Device);
    return attachmentOutput(v, 'attaching');
  },
});

/**
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachVolume.html — the NBD export goes and an open
 * client's I/O stops (ESHUTDOWN): without Force once the device has flushed what it acknowledged, with Force at
 * once, unflushed writes lost. Answers 'detaching', as EC2 does; the volume is 'available' when it returns.
 */
export const DetachVolume = ec2Operation<{ VolumeId: string; InstanceId?: string; Device?: string; Force?: boolean }>({
  name: 'DetachVolume',
  readOnly: false,
  resources: (input, call) => [ec2Arn(call.scope, 'volume', input.VolumeId), ...(input.InstanceId !== undefined ? [ec2Arn(call.scope, 'instance', input.InstanceId)] : [])],
  handle: async (input, call) => {
    checkVolumeId(input.VolumeId);
    if (input.InstanceId !== undefined) checkInstanceId(input.InstanceId);
    const v = await call.volumes.detach(call.scope, input.VolumeId, {
      ...(input.InstanceId !== undefined ? { instanceId: input.InstanceId } : {}),
      ...(input.Device !== undefined ? { device: input.Device } : {}),
      ...(input.Force !== undefined ? { force: input.Force } : {}),
    });
    return attachmentOutput(v, 'detaching');
  },
});
