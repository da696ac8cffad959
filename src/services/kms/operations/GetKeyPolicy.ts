import { DEFAULT_POLICY_NAME } from '../../../core/kms/default-policy.js';
import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html — PolicyName defaults to "default". */
export const GetKeyPolicy = keyOperation<{ KeyId: string; PolicyName?: string }>({
  name: 'GetKeyPolicy',
  action: 'kms:GetKeyPolicy',
  readOnly: true,
  aliases: false,
  handle: async (input, call, key) => ({
    Policy: call.kms.keys.getPolicy(key, input.PolicyName),
    PolicyName: input.PolicyName ?? DEFAULT_POLICY_NAME,
  }),
});
