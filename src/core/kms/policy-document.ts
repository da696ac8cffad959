import { needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KMS_KEY_POLICY_MAX_BYTES, PolicyError, parsePolicy } from '../policy/index.js';
import { AwsError } from '../errors/aws-error.js';

/**
 * A key policy must be a valid resource policy of at most 32 KB:
 * https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html#key-policy-limit
 * Malformed → MalformedPolicyDocumentException with what is wrong (never the document itself).
 */
export function checkKeyPolicy(policy: string): void {
  needs(
    Buffer.byteLength(policy, 'utf8') <= KMS_KEY_POLICY_MAX_BYTES,
    KmsErrors.MalformedPolicyDocumentException,
    `The key policy exceeds the maximum size of ${KMS_KEY_POLICY_MAX_BYTES} bytes.`,
  );
  try {
    parsePolicy(policy, 'resource');
  } catch (err) {
    if (err instanceof PolicyError) throw new AwsError(KmsErrors.MalformedPolicyDocumentException, `Policy contains a statement with invalid content: ${err.message}`);
    throw err;
  }
}
