import { AwsError } from '../../core/errors/aws-error.js';
import { Ec2Errors } from '../../core/errors/ec2.js';
import { VolumeModificationRecord, VolumeRecord } from '../../store/metadata/volume-types.js';
import { ec2Arn, ec2Operation } from './call.js';
import { Filter, matcher, page } from './filters.js';
import { modificationOutput } from './output.js';
import { checkVolumeId, describedVolumes } from './volume-operations.js';

/**
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyVolume.html — Size (only larger), VolumeType,
 * Iops, Throughput; MultiAttachEnabled only false. The answer is the modification, already 'completed' (there
 * is no optimisation phase here); a grown volume's NBD export has its new size from the next connection.
 */
export const ModifyVolume = ec2Operation<{ VolumeId: string; Size?: number; VolumeType?: string; Iops?: number; Throughput?: number; MultiAttachEnabled?: boolean }>({
  name: 'ModifyVolume',
  readOnly: false,
  resources: (input, call) => [ec2Arn(call.scope, 'volume', input.VolumeId)],
  handle: async (input, call) => {
    checkVolumeId(input.VolumeId);
    const m = await call.volumes.modifyVolume(call.scope, input.VolumeId, {
      ...(input.Size !== undefined ? { sizeGiB: input.Size } : {}),
      ...(input.VolumeType !== undefined ? { volumeType: input.VolumeType } : {}),
      ...(input.Iops !== undefined ? { iops: input.Iops } : {}),
      ...(input.Throughput !== undefined ? { throughput: input.Throughput } : {}),
      ...(input.MultiAttachEnabled !== undefined ? { multiAttachEnabled: input.MultiAttachEnabled } : {}),
    });
    return { VolumeModification: modificationOutput(input.VolumeId, m) };
  },
});

type Modified = VolumeRecord & { readonly modification: VolumeModificationRecord };
const iso = (ms: number) => new Date(ms).toISOString();
const num = (n: number | undefined) => (n === undefined ? undefined : String(n));

/** DescribeVolumesModifications' filters (the API reference's list). */
const MODIFICATION_FIELDS = {
  'volume-id': (v: Modified) => v.volumeId,
  'modification-state': (v: Modified) => v.modification.state,
  'target-size': (v: Modified) => String(v.modification.target.sizeGiB),
  'target-iops': (v: Modified) => num(v.modification.target.iops),
  'target-volume-type': (v: Modified) => v.modification.target.volumeType,
  'target-throughput': (v: Modified) => num(v.modification.target.throughput),
  targetMultiAttachEnabled: () => 'false',
  'original-size': (v: Modified) => String(v.modification.original.sizeGiB),
  'original-iops': (v: Modified) => num(v.modification.original.iops),
  'original-volume-type': (v: Modified) => v.modification.original.volumeType,
  'original-throughput': (v: Modified) => num(v.modification.original.throughput),
  originalMultiAttachEnabled: () => 'false',
  'start-time': (v: Modified) => iso(v.modification.startTime),
};

/**
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVolumesModifications.html — the most
 * recent modification of each volume (a volume never modified is not listed; named by VolumeIds it is
 * InvalidVolumeModification.NotFound), filters, MaxResults/NextToken as DescribeVolumes pages.
 */
export const DescribeVolumesModifications = ec2Operation<{ VolumeIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string }>({
  name: 'DescribeVolumesModifications',
  readOnly: true,
  resources: () => ['*'],
  handle: async (input, call) => {
    const all = await describedVolumes(input, call, false);
    for (const id of input.VolumeIds ?? []) {
      if (!all.find((x) => x.volumeId === id)?.modification) {
        throw new AwsError(Ec2Errors['InvalidVolumeModification.NotFound'], `Modification for volume '${id}' does not exist.`);
      }
    }
    const modified = all.filter((v): v is Modified => v.modification !== undefined).filter(matcher(input.Filters, MODIFICATION_FIELDS));
    const p = page(modified, (v) => v.volumeId, input.MaxResults, input.NextToken, { min: 5, max: 500 });
    return { VolumesModifications: p.items.map((v) => modificationOutput(v.volumeId, v.modification)), ...(p.nextToken ? { NextToken: p.nextToken } : {}) };
  },
});
