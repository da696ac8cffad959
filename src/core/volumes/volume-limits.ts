/** EBS's size limits per volume type, GiB (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-volume-types.html). */
export const SIZE_LIMITS: Readonly<Record<string, readonly [number, number]>> = {
  standard: [1, 1024],
  gp2: [1, 16384],
  gp3: [1, 16384],
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
