import { AwsError } from '../errors/aws-error.js';
import { Ec2Errors } from '../errors/ec2.js';
import { VolumeConfiguration, VolumeModificationRecord, VolumeRecord } from '../../store/metadata/volume-types.js';
import { SIZE_LIMITS, provisionedPerformance, sizeOutsideLimits } from './volume-limits.js';

/** What ModifyVolume asks (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyVolume.html). */
export interface ModifyVolumeInput {
  readonly sizeGiB?: number;
  readonly volumeType?: string;
  readonly iops?: number;
  readonly throughput?: number;
  readonly multiAttachEnabled?: boolean;
}

/**
 * AWS's cooldown: "After modifying a volume, you must wait at least six hours … before you can modify the same
 * volume" (API_ModifyVolume.html); a request within it is VolumeModificationRateExceeded.
 */
export const MODIFICATION_COOLDOWN_MS = 6 * 60 * 60 * 1000;

/** ModifyVolume's IOPS when the type changes to io1, io2 or gp3 and none are given (the API reference's default). */
const MODIFY_DEFAULT_IOPS = 3000;

const bad = (code: keyof typeof Ec2Errors, message: string) => new AwsError(Ec2Errors[code], message);

/**
 * The volume as ModifyVolume leaves it, with the modification recorded — or AWS's refusal. What is not given is
 * kept; a change to gp3 without Iops/Throughput gets gp3's baseline (3,000 IOPS, 125 MiB/s), a change to a type
 * without provisioned IOPS drops them. A request that names a value equal to the current one is accepted and
 * counts as a modification, as EC2 does (the EBS CSI driver skips such calls because EBS "will trigger a
 * modification": kubernetes-sigs/aws-ebs-csi-driver#1741); only a request naming nothing is refused.
 * Strongroom has no optimisation phase: the modification is 'completed' at once, so IncorrectModificationState
 * (a modification still 'modifying'/'optimizing') is checked but never met by its own records.
 */
export function modifiedVolume(v: VolumeRecord, input: ModifyVolumeInput, now: number): VolumeRecord {
  const { sizeGiB, volumeType, iops, throughput, multiAttachEnabled } = input;
  if (sizeGiB === undefined && volumeType === undefined && iops === undefined && throughput === undefined && multiAttachEnabled === undefined) {
    throw bad('InvalidParameterValue', 'Invalid input: Must specify at least one of size, type, iops, throughput or multi-attach.');
  }
  // One client at a time per volume (the NBD lease): Multi-Attach is not offered, and is off on every volume.
  if (multiAttachEnabled === true) throw bad('Unsupported', 'Multi-Attach is not supported.');
  const targetType = volumeType ?? v.volumeType;
  const limits = SIZE_LIMITS[targetType];
  if (!limits) throw bad('InvalidParameterValue', `Value (${targetType}) for parameter volumeType is invalid. Valid values: ${Object.keys(SIZE_LIMITS).join(', ')}.`);
  // "The API does not support modifications for volume type standard. You also cannot change the type of a volume to standard."
  if (v.volumeType === 'standard' || targetType === 'standard') throw bad('InvalidParameterValue', `Volume type standard is not supported for modification (volume ${v.volumeId}).`);
  if (sizeGiB !== undefined && sizeGiB < v.sizeGiB) throw bad('InvalidParameterValue', 'New size cannot be smaller than existing size');
  const targetSize = sizeGiB ?? v.sizeGiB;
  const outside = sizeOutsideLimits(targetSize, limits);
  if (outside) throw bad('InvalidParameterValue', outside);
  // IOPS and throughput: EBS's rule table, shared with CreateVolume. Kept when the type is; on a change of type
  // ModifyVolume's defaults: "If you change the volume type to io1, io2, or gp3, the default is 3,000" IOPS, and
  // throughput 125 (ModifyVolume API reference) — the ratio rules then apply to them as to given values.
  const sameType = targetType === v.volumeType;
  const kept = sameType ? { iops: v.iops, throughput: v.throughput } : { iops: MODIFY_DEFAULT_IOPS };
  const performance = provisionedPerformance(targetType, targetSize, { iops, throughput }, kept);
  const targetIops = performance.iops;
  const targetThroughput = performance.throughput;

  if (v.state !== 'available' && v.state !== 'in-use') throw bad('IncorrectState', `The volume '${v.volumeId}' is in the '${v.state}' state.`);
  const last = v.modification;
  if (last && (last.state === 'modifying' || last.state === 'optimizing')) {
    throw bad('IncorrectModificationState', `Volume ${v.volumeId} cannot be modified in modification state ${last.state.toUpperCase()}`);
  }
  if (last && now - last.startTime < MODIFICATION_COOLDOWN_MS) {
    throw bad('VolumeModificationRateExceeded', "You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.");
  }

  const original = configurationOf(v);
  const target: VolumeConfiguration = {
    sizeGiB: targetSize,
    volumeType: targetType,
    ...(targetIops !== undefined ? { iops: targetIops } : {}),
    ...(targetThroughput !== undefined ? { throughput: targetThroughput } : {}),
  };
  const modification: VolumeModificationRecord = { state: 'completed', original, target, startTime: now, endTime: now };
  const { iops: _i, throughput: _t, ...rest } = v;
  return { ...rest, ...target, modification };
}

function configurationOf(v: VolumeRecord): VolumeConfiguration {
  return { sizeGiB: v.sizeGiB, volumeType: v.volumeType, ...(v.iops !== undefined ? { iops: v.iops } : {}), ...(v.throughput !== undefined ? { throughput: v.throughput } : {}) };
}
