import { TrailBucketVerdict, TrailDeliveryError, TrailDestination, TrailTarget } from '../../core/audit/trails.js';
import { bucketArn, objectArn } from '../../core/s3/names.js';
import { ContextValue, PolicyCache, evaluate } from '../../core/policy/index.js';
import { BucketRecord } from '../../store/metadata/s3-types.js';
import { requestConditions } from '../request-conditions.js';
import { S3Deps } from './call.js';
import { S3_SIGNING_NAME } from './index.js';
import { ServiceWriteUnsupported, putServiceObject } from './service-writes.js';

const SERVICE_UNKNOWN = new Set(['sourceIp', 'userAgent', 'region'] as const);

/** The service principal CloudTrail writes as, which bucket policies name. */
export const CLOUDTRAIL_PRINCIPAL = 'cloudtrail.amazonaws.com';

/**
 * CloudTrail's side of S3: whether a trail's bucket lets CloudTrail in, and the writes themselves.
 * A bucket policy must allow the service principal cloudtrail.amazonaws.com s3:GetBucketAcl on the bucket
 * and s3:PutObject under [prefix/]AWSLogs/<account>/ — usually with conditions on aws:SourceArn (the trail),
 * aws:SourceAccount and s3:x-amz-acl = bucket-owner-full-control, which CloudTrail's requests carry.
 * A service principal has no identity policies and no account: only the bucket policy can allow it, and
 * any Deny in it wins (so decideS3, which reasons about accounts, is not the question here).
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
 */
export class S3TrailDestination implements TrailDestination {
  constructor(
    private readonly deps: S3Deps,
    private readonly policies = new PolicyCache(),
  ) {}

  async check(t: TrailTarget): Promise<TrailBucketVerdict> {
    const bucket = await this.deps.store.getBucket(t.bucket);
    if (!bucket) return 'NoSuchBucket';
    const sample = `${t.prefix ? `${t.prefix}/` : ''}AWSLogs/${t.accountId}/CloudTrail/${t.region}/`;
    return this.#allows(bucket, t, 's3:GetBucketAcl', bucketArn(bucket.name)) && this.#allows(bucket, t, 's3:PutObject', objectArn(bucket.name, sample))
      ? 'ok'
      : 'InsufficientPolicy';
  }

  /** Throws TrailDeliveryError with the S3 error code GetTrailStatus shows (NoSuchBucket, AccessDenied, …). */
  async put(t: TrailTarget, key: string, body: Buffer, metadata: Readonly<Record<string, string>>): Promise<void> {
    const bucket = await this.deps.store.getBucket(t.bucket);
    if (!bucket) throw new TrailDeliveryError('NoSuchBucket');
    if (!this.#allows(bucket, t, 's3:PutObject', objectArn(bucket.name, key))) throw new TrailDeliveryError('AccessDenied');
    try {
      await putServiceObject(this.deps, { bucket, key, body, headers: { 'content-type': 'application/json' }, metadata });
    } catch (err) {
      if (err instanceof ServiceWriteUnsupported) throw new TrailDeliveryError('KMS.UnsupportedOperationException');
      throw err;
    }
  }

  #allows(bucket: BucketRecord, t: TrailTarget, action: string, resource: string): boolean {
    if (!bucket.policy) return false;
    const now = this.deps.clock.now();
    const context: Record<string, ContextValue> = {
      'aws:SourceArn': t.trailArn,
      'aws:SourceAccount': t.accountId,
      'aws:PrincipalServiceName': CLOUDTRAIL_PRINCIPAL,
      // CloudTrail writes over TLS from its own network: no source IP or user agent a policy could name.
      ...requestConditions(S3_SIGNING_NAME, { principal: { awsService: true }, secureTransport: true, unknown: SERVICE_UNKNOWN }, now),
      ...(action === 's3:PutObject' ? { 's3:x-amz-acl': 'bucket-owner-full-control' } : {}),
    };
    const policy = this.policies.get(bucket.policy, 'resource');
    const result = evaluate([{ name: 'bucket policy', policy }], { principal: { type: 'Service', arn: CLOUDTRAIL_PRINCIPAL }, action, resource, context });
    return result.decision === 'Allow';
  }
}
