import { needs } from '../../core/errors/aws-error.js';
import { KmsErrors } from '../../core/errors/kms.js';
import { KmsCall } from './call.js';
import { requestConditions } from '../request-conditions.js';
import { KMS_SIGNING_NAME } from './index.js';

/**
 * CreateKey and PutKeyPolicy refuse a policy that would lock the caller out of the key (it could no
 * longer change the policy), unless BypassPolicyLockoutSafetyCheck is set.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html#KMS-PutKeyPolicy-request-BypassPolicyLockoutSafetyCheck
 */
export async function needsNoLockout(call: KmsCall, policy: string, keyArn: string, bypass: boolean | undefined): Promise<void> {
  if (bypass === true) return;
  const conditions = requestConditions(KMS_SIGNING_NAME, call.request, call.kms.deps.clock.now());
  const ok = await call.access.keepsPolicyAdmin(call.request.principal, policy, keyArn, call.scope.accountId, conditions);
  needs(
    ok,
    KmsErrors.MalformedPolicyDocumentException,
    'The new key policy will not allow you to update the key policy in the future.',
  );
}
