import { AwsError } from '../errors/aws-error.js';
import { Ec2Errors } from '../errors/ec2.js';

/**
 * EBS's size limits per volume type, GiB (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-volume-types.html;
 * the CreateVolume reference in botocore's current ec2 model: gp3 and io2 up to 65,536 GiB).
 */
export const SIZE_LIMITS: Readonly<Record<string, readonly [number, number]>> = {
  standard: [1, 1024],
  gp2: [1, 16384],
  gp3: [1, 65536],
  io1: [4, 16384],
  io2: [4, 65536],
  st1: [125, 16384],
  sc1: [125, 16384],
};

/** EC2's refusal of a size outside the type's limits (CreateVolume's and ModifyVolume's), or undefined when within. */
export function sizeOutsideLimits(sizeGiB: number, limits: readonly [number, number]): string | undefined {
  if (sizeGiB >= limits[0] && sizeGiB <= limits[1]) return undefined;
  return `Volume of ${sizeGiB}GiB is too ${sizeGiB < limits[0] ? 'small' : 'large'}; ${sizeGiB < limits[0] ? `minimum is ${limits[0]}GiB` : `maximum is ${limits[1]}GiB`}.`;
}

/**
 * EBS's provisioned-performance limits per volume type — the types absent here take neither Iops nor Throughput.
 * Figures from the current EC2 API reference (CreateVolume/ModifyVolume, botocore 1.43's ec2 model: "gp3: 3,000
 * (default) - 80,000 IOPS", "io1: 100 - 64,000", "io2: 100 - 256,000"; Throughput "Supported for gp3 volumes only
 * … Valid Range: 125 - 2000 MiB/s", ModifyVolume "The maximum value is 2,000"; older text says 16,000 and 1,000)
 * and the ratios of https://docs.aws.amazon.com/ebs/latest/userguide/ebs-volume-types.html (gp3 500 IOPS per GiB
 * and 0.25 MiB/s per IOPS, io1 50 IOPS per GiB, io2 1,000 IOPS per GiB). The per-GiB ratio never refuses the
 * type's minimum: a 1 GiB gp3 volume gets its 3,000 IOPS.
 */
export interface PerformanceLimits {
  readonly iops: readonly [number, number];
  readonly iopsPerGiB: number;
  /** gp3's IOPS when none are given (CreateVolume, or ModifyVolume to gp3); io1/io2 have none: Iops is required. */
  readonly defaultIops?: number;
  readonly throughput?: { readonly range: readonly [number, number]; readonly perIops: number; readonly default: number };
}

export const PERFORMANCE_LIMITS: Readonly<Record<string, PerformanceLimits>> = {
  gp3: { iops: [3000, 80000], iopsPerGiB: 500, defaultIops: 3000, throughput: { range: [125, 2000], perIops: 0.25, default: 125 } },
  io1: { iops: [100, 64000], iopsPerGiB: 50 },
  io2: { iops: [100, 256000], iopsPerGiB: 1000 },
};

export interface Performance {
  readonly iops?: number;
  readonly throughput?: number;
}

const refused = (code: 'InvalidParameterValue' | 'InvalidParameterCombination', message: string) => new AwsError(Ec2Errors[code], message);

/**
 * The IOPS and throughput a volume of this type and size gets (CreateVolume's, ModifyVolume's target), or EC2's
 * refusal. `given` is what the request names; `kept` what applies when it names nothing (ModifyVolume keeping the
 * type: the current values); then gp3's defaults. Messages: AWS's where seen — "The parameter iops is not
 * supported for gp2 volumes." (boto/boto3#2474), "The parameter iops must be specified for io2 volumes."
 * (vmware-tanzu/velero-plugin-for-aws#119), "throughput can only be specified for volumeType gp3."
 * (runs-on/runs-on#426), "Iops to volume size ratio of 750.000000 is too high; maximum is 500" (rocicorp/mono#4410),
 * "Throughput (MiBps) to iops ratio of 0.333333 is too high; maximum is 0.250000 MiBps per iops"
 * (runs-on/runs-on#260); the range messages are Strongroom's, in the style of the size one (README).
 */
export function provisionedPerformance(volumeType: string, sizeGiB: number, given: Performance, kept: Performance = {}): Performance {
  const limits = PERFORMANCE_LIMITS[volumeType];
  if (given.iops !== undefined && !limits) throw refused('InvalidParameterCombination', `The parameter iops is not supported for ${volumeType} volumes.`);
  if (given.throughput !== undefined && !limits?.throughput) throw refused('InvalidParameterCombination', 'throughput can only be specified for volumeType gp3.');
  if (!limits) return {};
  const iops = given.iops ?? kept.iops ?? limits.defaultIops;
  if (iops === undefined) throw refused('InvalidParameterCombination', `The parameter iops must be specified for ${volumeType} volumes.`);
  const [minIops, maxIops] = limits.iops;
  if (!Number.isInteger(iops) || iops < minIops) throw refused('InvalidParameterValue', `Volume iops of ${iops} is too low; minimum is ${minIops}.`);
  if (iops > maxIops) throw refused('InvalidParameterValue', `Volume iops of ${iops} is too high; maximum is ${maxIops}.`);
  if (iops > Math.max(minIops, limits.iopsPerGiB * sizeGiB)) {
    throw refused('InvalidParameterValue', `Iops to volume size ratio of ${(iops / sizeGiB).toFixed(6)} is too high; maximum is ${limits.iopsPerGiB}`);
  }
  if (!limits.throughput) return { iops };
  const t = limits.throughput;
  const throughput = given.throughput ?? kept.throughput ?? t.default;
  if (!Number.isInteger(throughput) || throughput < t.range[0]) throw refused('InvalidParameterValue', `Volume throughput of ${throughput} is too low; minimum is ${t.range[0]}.`);
  if (throughput > t.range[1]) throw refused('InvalidParameterValue', `Volume throughput of ${throughput} is too high; maximum is ${t.range[1]}.`);
  if (throughput > t.perIops * iops) {
    throw refused('InvalidParameterValue', `Throughput (MiBps) to iops ratio of ${(throughput / iops).toFixed(6)} is too high; maximum is ${t.perIops.toFixed(6)} MiBps per iops`);
  }
  return { iops, throughput };
}

/**
 * The IOPS EC2 shows for a volume: what was provisioned (gp3, io1, io2), or gp2's baseline — 3 IOPS per GiB, at
 * least 100 and at most 16,000 (ebs-volume-types.html, "General Purpose SSD (gp2)") — which DescribeVolumes
 * shows for gp2 though none is provisioned. Undefined for the types without IOPS figures (st1, sc1, standard).
 */
export function shownIops(c: { readonly volumeType: string; readonly sizeGiB: number; readonly iops?: number }): number | undefined {
  if (c.iops !== undefined) return c.iops;
  return c.volumeType === 'gp2' ? Math.min(16_000, Math.max(100, 3 * c.sizeGiB)) : undefined;
}
