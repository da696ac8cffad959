import { AwsError } from '../../core/errors/aws-error.js';
import { Ec2Errors } from '../../core/errors/ec2.js';
import { SNAPSHOT_ID, VOLUME_ID, restorableBy } from '../../core/volumes/volumes.js';
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
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshots.html — the snapshots the caller
 * may make volumes of: its own, those shared with its account and public ones (createVolumePermission).
 * OwnerIds (`self`, account ids; `amazon`/`aws-marketplace` own none here) and RestorableByUserIds (`self`: own or
 * explicitly shared with the caller; `all`: public; an account id: the caller's own snapshots shared with it).
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
    const me = call.scope.accountId;
    const listed = await call.volumes.store.listSnapshots({ region: call.scope.region, ...(input.SnapshotIds ? { ids: input.SnapshotIds } : {}) });
    const all = listed.filter((s) => restorableBy(s, me));
    const missing = (input.SnapshotIds ?? []).filter((id) => !all.some((s) => s.snapshotId === id));
    if (missing.length > 0) throw new AwsError(Ec2Errors['InvalidSnapshot.NotFound'], `The snapshot${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist.`);
    const owners = input.OwnerIds?.map((o) => (o === 'self' ? me : o));
    const restorable = (s: SnapshotRecord, who: string) => {
      const shared = s.createVolumePermission;
      if (who === 'all') return shared?.public === true;
      if (who === 'self' || who === me) return s.accountId === me || (shared?.userIds.includes(me) ?? false);
      return s.accountId === me && (shared?.userIds.includes(who) ?? false);
    };
    const shown = all
      .filter((s) => owners === undefined || owners.includes(s.accountId))
      .filter((s) => input.RestorableByUserIds === undefined || input.RestorableByUserIds.some((who) => restorable(s, who)))
      .filter(matcher(input.Filters, SNAPSHOT_FIELDS));
    const p = page(shown, (s) => s.snapshotId, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return { Snapshots: p.items.map(snapshotOutput), ...(p.nextToken ? { NextToken: p.nextToken } : {}) };
  },
});

type PermissionItem = { UserId?: string; Group?: string };

/** The attribute named, which must be createVolumePermission (productCodes cannot be changed; DescribeSnapshotAttribute shows none). */
function checkAttribute(attribute: string | undefined, allowProductCodes: boolean): 'createVolumePermission' | 'productCodes' {
  if (attribute === 'createVolumePermission' || (allowProductCodes && attribute === 'productCodes')) return attribute;
  if (attribute === undefined) throw new AwsError(Ec2Errors.MissingParameter, 'The request must contain the parameter attribute');
  throw new AwsError(Ec2Errors.InvalidParameterValue, `Value (${attribute.slice(0, 64)}) for parameter attribute is invalid. ${allowProductCodes ? 'Valid values: createVolumePermission, productCodes.' : 'Only createVolumePermission may be changed.'}`);
}

/**
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html — adds or removes
 * account ids and the group `all` (public) of the snapshot's createVolumePermission, with
 * CreateVolumePermission.Add/Remove or the older OperationType + UserId/UserGroup (not both adding and
 * removing in one call; up to 500 changes). An encrypted snapshot cannot be made public, one under aws/ebs
 * cannot be shared (OperationNotPermitted, as EC2 answers).
 */
export const ModifySnapshotAttribute = ec2Operation<{
  SnapshotId: string; Attribute?: string; CreateVolumePermission?: { Add?: PermissionItem[]; Remove?: PermissionItem[] }; OperationType?: string; UserIds?: string[]; GroupNames?: string[];
}>({
  name: 'ModifySnapshotAttribute',
  readOnly: false,
  resources: (input, call) => [ec2Arn(call.scope, 'snapshot', input.SnapshotId)],
  handle: async (input, call) => {
    checkSnapshotId(input.SnapshotId);
    checkAttribute(input.Attribute ?? 'createVolumePermission', false);
    const add = input.CreateVolumePermission?.Add ?? [];
    const remove = input.CreateVolumePermission?.Remove ?? [];
    if (add.length > 0 && remove.length > 0) {
      throw new AwsError(Ec2Errors.InvalidParameterCombination, 'You may add or remove permissions in one request, not both.');
    }
    let items: PermissionItem[] = add.length > 0 ? add : remove;
    let adding = add.length > 0;
    const legacy = [...(input.UserIds ?? []).map((UserId) => ({ UserId })), ...(input.GroupNames ?? []).map((Group) => ({ Group }))];
    if (legacy.length > 0) {
      if (items.length > 0) throw new AwsError(Ec2Errors.InvalidParameterCombination, 'The parameter CreateVolumePermission cannot be used with the parameters UserId and UserGroup');
      if (input.OperationType !== 'add' && input.OperationType !== 'remove') {
        throw new AwsError(input.OperationType === undefined ? Ec2Errors.MissingParameter : Ec2Errors.InvalidParameterValue, 'The request must contain the parameter operationType (add or remove)');
      }
      items = legacy;
      adding = input.OperationType === 'add';
    }
    if (items.length === 0) throw new AwsError(Ec2Errors.MissingParameter, 'The request must contain the parameter createVolumePermission');
    if (items.length > 500) throw new AwsError(Ec2Errors.InvalidParameterValue, 'You can make up to 500 modifications to a snapshot in a single operation.');
    const userIds: string[] = [];
    let group = false;
    for (const item of items) {
      if (item.UserId !== undefined) {
        if (!/^\d{12}$/.test(item.UserId)) throw new AwsError(Ec2Errors.InvalidAMIAttributeItemValue, `UserId (${item.UserId.slice(0, 64)}) is invalid.`);
        userIds.push(item.UserId);
      }
      if (item.Group !== undefined) {
        if (item.Group !== 'all') throw new AwsError(Ec2Errors.InvalidAMIAttributeItemValue, `UserGroup (${item.Group.slice(0, 64)}) is invalid.`);
        group = true;
      }
    }
    await call.volumes.modifyCreateVolumePermission(call.scope, input.SnapshotId, { add: adding, userIds, group });
    return {};
  },
});

/** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshotAttribute.html — the owner's view of createVolumePermission (or the, here empty, productCodes). */
export const DescribeSnapshotAttribute = ec2Operation<{ SnapshotId: string; Attribute?: string }>({
  name: 'DescribeSnapshotAttribute',
  readOnly: true,
  resources: (input, call) => [ec2Arn(call.scope, 'snapshot', input.SnapshotId)],
  handle: async (input, call) => {
    checkSnapshotId(input.SnapshotId);
    const attribute = checkAttribute(input.Attribute, true);
    const s = await call.volumes.getSnapshot(call.scope, input.SnapshotId);
    if (attribute === 'productCodes') return { SnapshotId: s.snapshotId, ProductCodes: [] };
    const p = s.createVolumePermission;
    return { SnapshotId: s.snapshotId, CreateVolumePermissions: [...(p?.public ? [{ Group: 'all' }] : []), ...(p?.userIds ?? []).map((UserId) => ({ UserId }))] };
  },
});

/** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ResetSnapshotAttribute.html — the snapshot is shared with nobody again. */
export const ResetSnapshotAttribute = ec2Operation<{ SnapshotId: string; Attribute?: string }>({
  name: 'ResetSnapshotAttribute',
  readOnly: false,
  resources: (input, call) => [ec2Arn(call.scope, 'snapshot', input.SnapshotId)],
  handle: async (input, call) => {
    checkSnapshotId(input.SnapshotId);
    checkAttribute(input.Attribute, false);
    await call.volumes.resetCreateVolumePermission(call.scope, input.SnapshotId);
    return {};
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
