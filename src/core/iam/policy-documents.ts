import { AwsError } from '../errors/aws-error.js';
import { IamErrors } from '../errors/iam.js';
import {
  IAM_GROUP_INLINE_POLICIES_MAX_CHARS, IAM_MANAGED_POLICY_MAX_CHARS, IAM_ROLE_INLINE_POLICIES_MAX_CHARS, IAM_ROLE_TRUST_POLICY_MAX_CHARS,
  IAM_USER_INLINE_POLICIES_MAX_CHARS, PolicyCache, PolicyError, iamPolicyLength,
} from '../policy/index.js';
import { InlineQuota, PolicyOwner } from '../../store/metadata/iam-types.js';

/**
 * Policy documents IAM accepts: they parse as the IAM policy language (MalformedPolicyDocument, with the
 * parser's description of the first problem) and fit IAM's quotas, counted in characters without white
 * space (LimitExceeded). https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 * Checking compiles the document into the shared cache, where evaluation finds it.
 */
export function checkIdentityPolicy(cache: PolicyCache, json: string): void {
  compile(cache, json, 'identity');
}

/** A managed policy version: the language, and at most 6,144 characters. */
export function checkManagedPolicy(cache: PolicyCache, json: string): void {
  compile(cache, json, 'identity');
  if (iamPolicyLength(json) > IAM_MANAGED_POLICY_MAX_CHARS) {
    throw new AwsError(IamErrors.LimitExceeded, `Cannot exceed quota for PolicySize: ${IAM_MANAGED_POLICY_MAX_CHARS}`);
  }
}

/** A role's trust policy: Principal required, no Resource; at most 2,048 characters. */
export function checkTrustPolicy(cache: PolicyCache, json: string): void {
  compile(cache, json, 'trust');
  if (iamPolicyLength(json) > IAM_ROLE_TRUST_POLICY_MAX_CHARS) {
    throw new AwsError(IamErrors.LimitExceeded, `Cannot exceed quota for ACLSizePerRole: ${IAM_ROLE_TRUST_POLICY_MAX_CHARS}`);
  }
}

/** The quota on the sum of an owner's inline policies. */
export function inlineQuota(kind: PolicyOwner['kind']): InlineQuota {
  const [name, max] =
    kind === 'user'
      ? ['UserPolicySize', IAM_USER_INLINE_POLICIES_MAX_CHARS]
      : kind === 'group'
        ? ['GroupPolicySize', IAM_GROUP_INLINE_POLICIES_MAX_CHARS]
        : ['RolePolicySize', IAM_ROLE_INLINE_POLICIES_MAX_CHARS];
  return { name, max, length: iamPolicyLength };
}

function compile(cache: PolicyCache, json: string, kind: 'identity' | 'trust'): void {
  try {
    cache.get(json, kind);
  } catch (err) {
    if (err instanceof PolicyError) throw new AwsError(IamErrors.MalformedPolicyDocument, err.message);
    throw err;
  }
}
