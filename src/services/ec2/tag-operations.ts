import { AwsError } from '../../core/errors/aws-error.js';
import { Ec2Errors } from '../../core/errors/ec2.js';
import { SNAPSHOT_ID, VOLUME_ID } from '../../core/volumes/volumes.js';
import { Ec2Call, ec2Arn, ec2Operation } from './call.js';

type Tag = { Key?: string; Value?: string };

/** The ARN of a volume or snapshot id (the resources taggable here); anything else is InvalidID. */
function resourceArn(call: Ec2Call, id: string): string {
  if (VOLUME_ID.test(id)) return ec2Arn(call.scope, 'volume', id);
  if (SNAPSHOT_ID.test(id)) return ec2Arn(call.scope, 'snapshot', id);
  throw new AwsError({ code: 'InvalidID', status: 400, fault: 'client' }, `The ID '${id.slice(0, 64)}' is not valid`);
}

/** Applies `change` to the tags of each volume or snapshot (all found first: one missing changes none). */
async function retag(call: Ec2Call, ids: readonly string[], change: (tags: Record<string, string>) => void): Promise<void> {
  const found = await Promise.all(
    ids.map(async (id) => (VOLUME_ID.test(id) ? { volume: await call.volumes.getVolume(call.scope, id) } : { snapshot: await call.volumes.getSnapshot(call.scope, id) })),
  );
  for (const f of found) {
    if (f.volume !== undefined) {
      const tags = { ...f.volume.tags };
      change(tags);
      await call.volumes.store.updateVolume(f.volume.volumeId, undefined, { tags });
    } else if (f.snapshot !== undefined) {
      const tags = { ...f.snapshot.tags };
      change(tags);
      await call.volumes.store.updateSnapshot(f.snapshot.snapshotId, { tags });
    }
  }
}

/** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html (volumes and snapshots). */
export const CreateTags = ec2Operation<{ Resources: string[]; Tags: Tag[] }>({
  name: 'CreateTags',
  readOnly: false,
  resources: (input, call) => input.Resources.map((id) => resourceArn(call, id)),
  handle: async (input, call) => {
    for (const t of input.Tags) {
      if ((t.Key ?? '').startsWith('aws:')) throw new AwsError(Ec2Errors.InvalidParameterValue, "Tag keys starting with 'aws:' are reserved for internal use");
    }
    await retag(call, input.Resources, (tags) => {
      for (const t of input.Tags) tags[t.Key ?? ''] = t.Value ?? '';
    });
    return {};
  },
});

/** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html — a tag given with a value is deleted only if it has that value. */
export const DeleteTags = ec2Operation<{ Resources: string[]; Tags?: Tag[] }>({
  name: 'DeleteTags',
  readOnly: false,
  resources: (input, call) => input.Resources.map((id) => resourceArn(call, id)),
  handle: async (input, call) => {
    await retag(call, input.Resources, (tags) => {
      if (input.Tags === undefined) {
        for (const k of Object.keys(tags)) delete tags[k];
        return;
      }
      for (const t of input.Tags) {
        const k = t.Key ?? '';
        if (t.Value === undefined || tags[k] === t.Value) delete tags[k];
      }
    });
    return {};
  },
});
