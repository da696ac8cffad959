import { DEFAULT_POLICY_NAME } from '../../../core/kms/default-policy.js';
import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeyPolicies.html — a key has one policy, "default". */
export const ListKeyPolicies = keyOperation<{ KeyId: string; Limit?: number; Marker?: string }>({
  name: 'ListKeyPolicies',
  action: 'kms:ListKeyPolicies',
  readOnly: true,
  aliases: false,
  handle: async () => ({ PolicyNames: [DEFAULT_POLICY_NAME], Truncated: false }),
});
