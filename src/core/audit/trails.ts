import { needs } from '../errors/aws-error.js';
import { CloudTrailErrors } from '../errors/cloudtrail.js';
import { TrailRecord, TrailStore } from '../../store/metadata/trail-types.js';

/** Where a trail delivers: its bucket and key prefix, and who it is (the bucket policy's aws:SourceArn). */
export interface TrailTarget {
  readonly trailArn: string;
  readonly accountId: string;
  readonly region: string;
  readonly bucket: string;
  readonly prefix: string | null;
}

/** Whether CloudTrail can deliver to a target: yes, no such bucket, or the bucket policy does not let it. */
export type TrailBucketVerdict = 'ok' | 'NoSuchBucket' | 'InsufficientPolicy';

/**
 * Whether a trail's bucket exists and lets CloudTrail write: CreateTrail answers S3BucketDoesNotExistException
 * or InsufficientS3BucketPolicyException otherwise. S3 implements it (src/services/s3/trail-destination.ts);
 * ACCEPT_ANY_BUCKET is for tests of the CloudTrail API alone.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
 */
export interface TrailBucketCheck {
  check(target: TrailTarget): Promise<TrailBucketVerdict>;
  /**
   * Whether CloudTrail may encrypt the target's log files under the KMS key `keyRef` names (key id, key ARN,
   * alias name or alias ARN, in the bucket's region): CloudTrail asks KMS for a data key as
   * cloudtrail.amazonaws.com, as CreateTrail and UpdateTrail do at AWS, and answers the key's ARN — or why not.
   * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/how-kms-works-with-cloudtrail.html
   */
  checkKey(target: TrailTarget, keyRef: string): Promise<TrailKeyVerdict>;
}

/** The key's ARN, or what KMS refused: no such key, a key policy that does not let CloudTrail in, a key not usable now. */
export type TrailKeyVerdict =
  | { readonly keyArn: string }
  | { readonly refused: 'KmsKeyNotFound' | 'InsufficientEncryptionPolicy' | 'KmsKeyUnusable'; readonly keyArn: string; readonly message: string };

export const ACCEPT_ANY_BUCKET: TrailBucketCheck = { check: async () => 'ok', checkKey: async (_t, keyRef) => ({ keyArn: keyRef }) };

/**
 * Where a trail's files go: an object written into the trail's bucket as the CloudTrail service (not as any
 * caller), encrypted under the trail's KMS key (log files of a trail that has one) or as new objects of that
 * bucket are, with `metadata` as x-amz-meta-*; all or nothing.
 * Throws TrailDeliveryError when the bucket is missing or refuses.
 */
export interface TrailDestination extends TrailBucketCheck {
  /** `kmsKeyId` (a key ARN): SSE-KMS under that key, as CloudTrail writes a trail's log files when it has one. */
  put(target: TrailTarget, key: string, body: Buffer, metadata: Readonly<Record<string, string>>, kmsKeyId?: string): Promise<void>;
}

/** A delivery that failed for a reason the trail's owner can fix (GetTrailStatus shows it as LatestDeliveryError). */
export class TrailDeliveryError extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = 'TrailDeliveryError';
  }
}

/** At most five trails per account and region, as AWS. https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html */
export const MAX_TRAILS_PER_REGION = 5;

const TRAIL_ARN = /^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):trail\/(.+)$/;

/**
 * A trail name as CreateTrail accepts it: 3–128 characters of ASCII letters, digits, periods, underscores
 * and dashes, starting and ending with a letter or digit, without two adjacent separators (`my._trail`)
 * and not shaped like an IP address.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html#awscloudtrail-CreateTrail-request-Name
 */
export function checkTrailName(name: string): void {
  const ok = /^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$/.test(name) && !/[._-]{2}/.test(name) && !/^\d{1,3}(\.\d{1,3}){3}$/.test(name);
  needs(
    ok,
    CloudTrailErrors.InvalidTrailNameException,
    'Trail name must starts with a letter or number, end with a letter or number, be between 3 and 128 characters, have no adjacent periods, underscores or dashes and not be in IP address format.',
  );
}

export function trailTarget(trail: TrailRecord): TrailTarget {
  return { trailArn: trail.arn, accountId: trail.accountId, region: trail.region, bucket: trail.s3BucketName, prefix: trail.s3KeyPrefix };
}

export function trailArn(accountId: string, region: string, name: string): string {
  return `arn:aws:cloudtrail:${region}:${accountId}:trail/${name}`;
}

/** A trail named by its name or its ARN: where it lives. */
export interface TrailRef {
  readonly accountId: string;
  readonly region: string;
  readonly name: string;
}

/**
 * Resolves a `Name`/`TrailName` parameter: a name means the caller's account and the request's region (or a
 * multi-region trail of the account's); an ARN names account, home region and name.
 */
export function trailRef(value: string, accountId: string, region: string): TrailRef {
  if (value.startsWith('arn:')) {
    const m = TRAIL_ARN.exec(value);
    needs(m !== null, CloudTrailErrors.CloudTrailARNInvalidException, `Invalid trail ARN: ${value.slice(0, 256)}`);
    return { region: m![1]!, accountId: m![2]!, name: m![3]! };
  }
  checkTrailName(value);
  return { accountId, region, name: value };
}

/** Finds the trail `value` names as seen from `region` (its home region, or any region for a multi-region trail). */
export async function findTrail(store: TrailStore, value: string, accountId: string, region: string): Promise<TrailRecord> {
  const ref = trailRef(value, accountId, region);
  const candidates = ref.accountId === accountId ? await store.listTrails(accountId, region) : [];
  const trail = candidates.find((t) => t.name === ref.name && (value.startsWith('arn:') ? t.region === ref.region : true));
  needs(trail !== undefined, CloudTrailErrors.TrailNotFoundException, `Unknown trail: ${trailArn(ref.accountId, ref.region, ref.name)} for the user: ${accountId}`);
  return trail!;
}

/** Changes (StartLogging, PutEventSelectors, DeleteTrail…) are made in the trail's home region only. */
export function needsHomeRegion(trail: TrailRecord, region: string): void {
  needs(
    trail.region === region,
    CloudTrailErrors.InvalidHomeRegionException,
    `This operation must be called from the trail's home region (${trail.region}).`,
  );
}
