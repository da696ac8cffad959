import { checkKeyPolicy } from '../../../core/kms/policy-document.js';
import { keyOperation } from '../call.js';
import { needsNoLockout } from '../lockout.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html */
export const PutKeyPolicy = keyOperation<{ KeyId: string; Policy: string; PolicyName?: string; BypassPolicyLockoutSafetyCheck?: boolean }>({
  name: 'PutKeyPolicy',
  action: 'kms:PutKeyPolicy',
  readOnly: false,
  aliases: false,
  handle: async (input, call, key) => {
    checkKeyPolicy(input.Policy);
    await needsNoLockout(call, input.Policy, key.arn, input.BypassPolicyLockoutSafetyCheck);
    await call.kms.keys.putPolicy(key, input.Policy, input.PolicyName);
    return {};
  },
});
