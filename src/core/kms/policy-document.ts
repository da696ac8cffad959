import { needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';

/** AWS caps a key policy at 32 KB. https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html */
export const MAX_KEY_POLICY_BYTES = 32 * 1024;

/**
 * The structural checks a key policy must pass to be stored. Full parsing and evaluation of the policy
 * language belong to core/policy (the access-control issue); this only refuses what can never be a policy.
 */
export function checkKeyPolicy(policy: string): void {
  needs(
    Buffer.byteLength(policy, 'utf8') <= MAX_KEY_POLICY_BYTES,
    KmsErrors.MalformedPolicyDocumentException,
    `The key policy exceeds the maximum size of ${MAX_KEY_POLICY_BYTES} bytes.`,
  );
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    doc = undefined;
  }
  needs(
    typeof doc === 'object' && doc !== null && !Array.isArray(doc),
    KmsErrors.MalformedPolicyDocumentException,
    'The policy is not a JSON object.',
  );
  const statement = (doc as Record<string, unknown>).Statement;
  needs(
    typeof statement === 'object' && statement !== null,
    KmsErrors.MalformedPolicyDocumentException,
    "The policy must contain a 'Statement' (an object or an array of objects).",
  );
}
