import { TrailBucketVerdict, TrailDeliveryError, TrailDestination, TrailKeyVerdict, TrailTarget } from '../../core/audit/trails.js';
import { AwsError } from '../../core/errors/aws-error.js';
import { KmsForS3, SseChoice } from '../../core/s3/sse.js';
import { bucketArn, objectArn } from '../../core/s3/names.js';
import { ContextValue, PolicyCache, evaluate } from '../../core/policy/index.js';
import { BucketRecord } from '../../store/metadata/s3-types.js';
import { KmsServicePrincipalClient, ServiceCaller } from '../kms/service-principal-client.js';
import { requestConditions } from '../request-conditions.js';
import { S3Deps } from './call.js';
import { S3_SIGNING_NAME } from './index.js';
import { s3ErrorOf } from './kms-bridge.js';
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
 * SSE-KMS — a trail's KMS key for its log files, or the bucket's default — calls KMS as CloudTrail too
 * (KmsServicePrincipalClient): the key policy must let cloudtrail.amazonaws.com GenerateDataKey*, with the
 * encryption context aws:cloudtrail:arn = the trail (and aws:s3:arn = the object) that AWS sends.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
 */
export class S3TrailDestination implements TrailDestination {
  constructor(
    private readonly deps: S3Deps,
    /** Absent: SSE-KMS deliveries are refused (tests of S3 alone). */
    private readonly kms?: KmsServicePrincipalClient,
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

  /**
   * CreateTrail's and UpdateTrail's check of a KMS key: a GenerateDataKey as CloudTrail with the context of the
   * trail and its log folder (the data key is thrown away), in the bucket's region.
   */
  async checkKey(t: TrailTarget, keyRef: string): Promise<TrailKeyVerdict> {
    const bucket = await this.deps.store.getBucket(t.bucket);
    const region = bucket?.region ?? t.region;
    const shown = keyRef.startsWith('arn:') ? keyRef : `arn:aws:kms:${region}:${t.accountId}:${keyRef.startsWith('alias/') ? keyRef : `key/${keyRef}`}`;
    if (!this.kms) return { refused: 'KmsKeyUnusable', keyArn: shown, message: 'SSE-KMS encryption of log files is not available on this server.' };
    const folder = `${t.prefix ? `${t.prefix}/` : ''}AWSLogs/${t.accountId}/`;
    try {
      const dk = await this.kms.generateDataKey(this.#caller(t, region), keyRef, { 'aws:cloudtrail:arn': t.trailArn, 'aws:s3:arn': objectArn(t.bucket, folder) });
      dk.plaintext.wipe();
      return { keyArn: dk.keyArn };
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      if (err.code === 'NotFoundException') return { refused: 'KmsKeyNotFound', keyArn: shown, message: err.message };
      if (err.code === 'AccessDeniedException') return { refused: 'InsufficientEncryptionPolicy', keyArn: shown, message: err.message };
      if (err.fault === 'server') throw err;
      return { refused: 'KmsKeyUnusable', keyArn: shown, message: err.message };
    }
  }

  /** Throws TrailDeliveryError with the S3 error code GetTrailStatus shows (NoSuchBucket, AccessDenied, KMS.…). */
  async put(t: TrailTarget, key: string, body: Buffer, metadata: Readonly<Record<string, string>>, kmsKeyId?: string): Promise<void> {
    const bucket = await this.deps.store.getBucket(t.bucket);
    if (!bucket) throw new TrailDeliveryError('NoSuchBucket');
    // CloudTrail's PutObject of an SSE-KMS log file carries the SSE headers a bucket policy may test.
    const sseConditions: Record<string, ContextValue> = kmsKeyId ? { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': kmsKeyId } : {};
    if (!this.#allows(bucket, t, 's3:PutObject', objectArn(bucket.name, key), sseConditions)) throw new TrailDeliveryError('AccessDenied');
    const sse: SseChoice | undefined = kmsKeyId
      ? { kind: 'kms', algorithm: 'aws:kms', keyId: kmsKeyId, context: { 'aws:cloudtrail:arn': t.trailArn }, bucketKey: bucket.encryption?.bucketKeyEnabled ?? false }
      : undefined;
    try {
      await putServiceObject(this.deps, { bucket, key, body, headers: { 'content-type': 'application/json' }, metadata, ...(sse ? { sse } : {}), ...(this.kms ? { kms: this.#kmsFor(t, bucket) } : {}) });
    } catch (err) {
      if (err instanceof ServiceWriteUnsupported) throw new TrailDeliveryError('KMS.UnsupportedOperationException');
      const s3 = s3ErrorOf(err);
      if (s3 instanceof AwsError && s3.fault === 'client') throw new TrailDeliveryError(s3.code);
      throw err;
    }
  }

  #caller(t: TrailTarget, region: string): ServiceCaller {
    return { service: CLOUDTRAIL_PRINCIPAL, sourceArn: t.trailArn, sourceAccount: t.accountId, region };
  }

  /** KMS as S3 calls it for CloudTrail's PutObject: as the CloudTrail service, in the bucket's region. */
  #kmsFor(t: TrailTarget, bucket: BucketRecord): KmsForS3 {
    const kms = this.kms!;
    const caller = this.#caller(t, bucket.region);
    return {
      callerArn: `${CLOUDTRAIL_PRINCIPAL}\n${t.trailArn}`,
      generateDataKey: async (keyId, context) => kms.generateDataKey(caller, keyId ?? (await kms.awsManagedKeyArn(caller, bucket.accountId, bucket.region, 's3')), context),
      decrypt: () => Promise.reject(new Error('CloudTrail deliveries do not decrypt')),
    };
  }

  #allows(bucket: BucketRecord, t: TrailTarget, action: string, resource: string, extra: Record<string, ContextValue> = {}): boolean {
    if (!bucket.policy) return false;
    const now = this.deps.clock.now();
    const context: Record<string, ContextValue> = {
      'aws:SourceArn': t.trailArn,
      'aws:SourceAccount': t.accountId,
      'aws:PrincipalServiceName': CLOUDTRAIL_PRINCIPAL,
      // CloudTrail writes over TLS from its own network: no source IP or user agent a policy could name.
      ...requestConditions(S3_SIGNING_NAME, { principal: { awsService: true }, secureTransport: true, unknown: SERVICE_UNKNOWN }, now),
      ...(action === 's3:PutObject' ? { 's3:x-amz-acl': 'bucket-owner-full-control' } : {}),
      ...extra,
    };
    const policy = this.policies.get(bucket.policy, 'resource');
    const result = evaluate([{ name: 'bucket policy', policy }], { principal: { type: 'Service', arn: CLOUDTRAIL_PRINCIPAL }, action, resource, context });
    return result.decision === 'Allow';
  }
}
