import { Decision, NamedPolicy, OVER_BUDGET_REASON, StatementRef, evaluate } from './evaluate.js';
import { ContextKeys, PolicyRequest } from './request.js';

/**
 * Whether an S3 request is allowed, by the bucket policy and the caller's identity-based policies.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-basics
 * - An explicit Deny in either denies.
 * - Caller in the bucket owner's account: an Allow in either policy allows (the account's root user is
 *   allowed by its account without IAM policies).
 * - Caller from another account: the bucket policy must allow it and so must its own identity policies.
 * - Except: the root user of the bucket owner's account may always Get/Put/DeleteBucketPolicy, whatever the
 *   bucket policy says, so that no policy can lock the owner out of its bucket for good. "To ensure that
 *   bucket owners don't inadvertently lock themselves out of their own buckets, the root principal in a
 *   bucket owner's AWS account can perform the GetBucketPolicy, PutBucketPolicy, and DeleteBucketPolicy API
 *   actions, even if their bucket policy explicitly denies the root principal's access."
 *   (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html). Only those three actions,
 *   only that root user: not the account's IAM users or roles, not another account.
 */
export interface S3AccessInput {
  readonly bucketPolicy?: NamedPolicy;
  readonly identityPolicies: readonly NamedPolicy[];
  readonly request: PolicyRequest;
  readonly bucketOwnerAccountId: string;
}

export interface S3Decision {
  readonly decision: Decision;
  readonly reason: string | undefined;
  readonly matched: readonly StatementRef[];
}

/** What the bucket owner's root user may do whatever the bucket policy says. */
const OWNER_ROOT_ALWAYS = new Set(['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']);

export function decideS3(input: S3AccessInput): S3Decision {
  const { principal: caller, action } = input.request;
  if (caller.type === 'Root' && caller.accountId === input.bucketOwnerAccountId && OWNER_ROOT_ALWAYS.has(action)) {
    return { decision: 'Allow', reason: undefined, matched: [] };
  }
  const keys = ContextKeys.of(input.request);
  const resource = input.bucketPolicy ? evaluate([input.bucketPolicy], input.request, keys) : undefined;
  const identity = evaluate(input.identityPolicies, input.request, keys);
  const matched = [...(resource?.matched ?? []), ...identity.matched];
  if (resource?.overBudget || identity.overBudget) return { decision: 'Deny', reason: OVER_BUDGET_REASON, matched };
  if (resource?.decision === 'Deny') return { decision: 'Deny', reason: 'with an explicit deny in a resource-based policy', matched };
  if (identity.decision === 'Deny') return { decision: 'Deny', reason: 'with an explicit deny in an identity-based policy', matched };
  const { principal } = input.request;
  const identityAllows = identity.decision === 'Allow' || principal.type === 'Root';
  const resourceAllows = resource?.decision === 'Allow';
  const sameAccount = principal.accountId === input.bucketOwnerAccountId;
  if (sameAccount ? identityAllows || resourceAllows : identityAllows && resourceAllows) return { decision: 'Allow', reason: undefined, matched };
  const missing = sameAccount || !resourceAllows ? (sameAccount ? 'identity-based' : 'resource-based') : 'identity-based';
  return { decision: 'ImplicitDeny', reason: `because no ${missing} policy allows the ${input.request.action} action`, matched };
}
