import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { Principal } from '../../core/identity/principal.js';
import { ContextValue, NamedPolicy, PolicyCache, accessDeniedMessage, decideS3 } from '../../core/policy/index.js';
import { IdentityPolicySource } from '../../core/policy/sources.js';
import { BucketRecord } from '../../store/metadata/s3-types.js';

/**
 * S3 authorization: the bucket policy and the caller's IAM policies (core/policy/s3-access.ts). A request
 * without a bucket (ListBuckets) is decided by IAM alone; the root user may do anything in its account
 * that no policy denies. Bucket policies are compiled once per text.
 */
export class S3AccessControl {
  constructor(
    private readonly identity: IdentityPolicySource,
    private readonly policies = new PolicyCache(),
  ) {}

  async authorize(q: {
    principal: Principal;
    action: string;
    resource: string;
    bucket: BucketRecord | undefined;
    conditions: Readonly<Record<string, ContextValue>>;
  }): Promise<void> {
    const identityPolicies = q.principal.type === 'Root' ? [] : await this.identity.policiesFor(q.principal);
    const bucketPolicy: NamedPolicy | undefined = q.bucket?.policy ? { name: 'bucket policy', policy: this.policies.get(q.bucket.policy, 'resource') } : undefined;
    const request = { principal: q.principal, action: q.action, resource: q.resource, context: q.conditions };
    const result = decideS3({
      ...(bucketPolicy ? { bucketPolicy } : {}),
      identityPolicies,
      request,
      bucketOwnerAccountId: q.bucket?.accountId ?? q.principal.accountId,
    });
    if (result.decision === 'Allow') return;
    throw new AwsError(S3Errors.AccessDenied, accessDeniedMessage(request, result.reason ?? 'because no policy allows it'));
  }
}
