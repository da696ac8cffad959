import { AwsError } from '../../core/errors/aws-error.js';
import { Ec2Errors } from '../../core/errors/ec2.js';
import { SNAPSHOT_ID, VOLUME_ID } from '../../core/volumes/volumes.js';
import { SnapshotRecord } from '../../store/metadata/volume-types.js';
import { ec2Arn, ec2Operation, tagsFor } from './call.js';
import { Filter, matcher, page } from './filters.js';
import { snapshotOutput } from './output.js';

type TagSpecs = { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[];

function checkSnapshotId(id: string): void {
  if (!SNAPSHOT_ID.test(id)) throw new AwsError(Ec2Errors['InvalidSnapshotID.Malformed'], `Invalid id: "${id.slice(0, 64)}" (expecting "snap-...")`);
}

/** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSnapshot.html */
export const CreateSnapshot = ec2Operation<{ VolumeId: string; Description?: string; TagSpecifications?: TagSpecs }>({
  name: 'CreateSnapshot',
  readOnly: false,
  resources: (input, call) => [ec2Arn(call.scope, 'snapshot', '*'), ec2Arn(call.scope, 'volume', input.VolumeId)],
  handle: async (input, call) => {
    if (!VOLUME_ID.test(input.VolumeId)) throw new AwsError(Ec2Errors['InvalidVolumeID.Malformed'], `Invalid id: "${input.VolumeId.slice(0, 64)}" (expecting "vol-...")`);
    const s = await call.volumes.createSnapshot(call.scope, input.VolumeId, input.Description ?? '', tagsFor(input.TagSpecifications, 'snapshot'));
    // EC2 answers 'pending' (the snapshot completes in the background there; ours is complete at once).
    return { ...snapshotOutput(s), State: 'pending', Progress: '' };
  },
});

const SNAPSHOT_FIELDS = {
  description: (s: SnapshotRecord) => s.description,
  encrypted: (s: SnapshotRecord) => String(s.encrypted),
  'owner-id': (s: SnapshotRecord) => s.accountId,
  progress: (s: SnapshotRecord) => (s.state === 'completed' ? '100%' : '0%'),
  'snapshot-id': (s: SnapshotRecord) => s.snapshotId,
  'start-time': (s: SnapshotRecord) => new Date(s.startTime).toISOString(),
  status: (s: SnapshotRecord) => s.state,
  'storage-tier': () => 'standard',
  'volume-id': (s: SnapshotRecord) => s.volumeId,
  'volume-size': (s: SnapshotRecord) => String(s.volumeSizeGiB),
  'kms-key-id': (s: SnapshotRecord) => (s.dataKey.kind === 'kms' ? s.dataKey.keyArn : undefined),
};

/**
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshots.html — the account's own
 * snapshots (none are shared or public here: OwnerIds other than `self` and the account find nothing).
 */
export const DescribeSnapshots = ec2Operation<{ SnapshotIds?: string[]; OwnerIds?: string[]; RestorableByUserIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string }>({
  name: 'DescribeSnapshots',
  readOnly: true,
  resources: () => ['*'],
  handle: async (input, call) => {
    if (input.MaxResults !== undefined && input.SnapshotIds !== undefined) {
      throw new AwsError(Ec2Errors.InvalidParameterCombination, 'The parameter SnapshotId cannot be used with the parameter maxResults');
    }
    input.SnapshotIds?.forEach(checkSnapshotId);
    const all = await call.volumes.store.listSnapshots({ ...call.scope, ...(input.SnapshotIds ? { ids: input.SnapshotIds } : {}) });
    const missing = (input.SnapshotIds ?? []).filter((id) => !all.some((s) => s.snapshotId === id));
    if (missing.length > 0) throw new AwsError(Ec2Errors['InvalidSnapshot.NotFound'], `The snapshot${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist.`);
    const owners = input.OwnerIds;
    const ownerOk = owners === undefined || owners.some((o) => o === 'self' || o === call.scope.accountId);
    const shown = ownerOk ? all.filter(matcher(input.Filters, SNAPSHOT_FIELDS)) : [];
    const p = page(shown, (s) => s.snapshotId, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return { Snapshots: p.items.map(snapshotOutput), ...(p.nextToken ? { NextToken: p.nextToken } : {}) };
  },
});

/** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSnapshot.html — the chunks only it referenced are freed. */
export const DeleteSnapshot = ec2Operation<{ SnapshotId: string }>({
  name: 'DeleteSnapshot',
  readOnly: false,
  resources: (input, call) => [ec2Arn(call.scope, 'snapshot', input.SnapshotId)],
  handle: async (input, call) => {
    checkSnapshotId(input.SnapshotId);
    await call.volumes.deleteSnapshot(call.scope, input.SnapshotId);
    return {};
  },
});

/**
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopySnapshot.html — sent to the destination Region
 * (the request's); SourceRegion may be any Region of this deployment. Encrypted/KmsKeyId (or encryption by
 * default) re-encrypt the copy under a new data key; otherwise it shares the source's chunks.
 */
export const CopySnapshot = ec2Operation<{ SourceRegion: string; SourceSnapshotId: string; Encrypted?: boolean; KmsKeyId?: string; Description?: string; TagSpecifications?: TagSpecs }>({
  name: 'CopySnapshot',
  readOnly: false,
  resources: (input, call) => [ec2Arn(call.scope, 'snapshot', '*'), ec2Arn({ accountId: call.scope.accountId, region: input.SourceRegion }, 'snapshot', input.SourceSnapshotId)],
  handle: async (input, call) => {
    checkSnapshotId(input.SourceSnapshotId);
    const s = await call.volumes.copySnapshot(
      call.scope,
      {
        sourceRegion: input.SourceRegion,
        sourceSnapshotId: input.SourceSnapshotId,
        ...(input.Encrypted !== undefined ? { encrypted: input.Encrypted } : {}),
        ...(input.KmsKeyId !== undefined ? { kmsKeyId: input.KmsKeyId } : {}),
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        tags: tagsFor(input.TagSpecifications, 'snapshot'),
      },
      call.kms,
    );
    const tags = Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value }));
    return { ...(tags.length > 0 ? { Tags: tags } : {}), SnapshotId: s.snapshotId };
  },
});
