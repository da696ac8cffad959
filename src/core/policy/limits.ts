/**
 * Size quotas of policy documents. The caller knows what the document is and applies the right one.
 *
 * IAM quotas, in characters, white space not counted:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length
 * The inline quotas are for the sum of all inline policies of the user, group or role.
 */
export const IAM_MANAGED_POLICY_MAX_CHARS = 6_144;
export const IAM_USER_INLINE_POLICIES_MAX_CHARS = 2_048;
export const IAM_GROUP_INLINE_POLICIES_MAX_CHARS = 5_120;
export const IAM_ROLE_INLINE_POLICIES_MAX_CHARS = 10_240;
/** A role trust policy: 2,048 by default (AWS can raise it to 4,096 on request). */
export const IAM_ROLE_TRUST_POLICY_MAX_CHARS = 2_048;

/** A KMS key policy, in bytes: https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html */
export const KMS_KEY_POLICY_MAX_BYTES = 32_768;

/** The length IAM counts against its quotas: characters other than white space. */
export function iamPolicyLength(json: string): number {
  let n = 0;
  for (const ch of json) if (!/\s/.test(ch)) n++;
  return n;
}
