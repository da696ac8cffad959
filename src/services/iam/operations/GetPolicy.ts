import { policyOperation } from '../policy-operation.js';
import { policyShape } from '../output.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicy.html — the document is read with GetPolicyVersion. */
export const GetPolicy = policyOperation<{ PolicyArn: string }>({
  name: 'GetPolicy',
  readOnly: true,
  handle: async (input, call) => ({ Policy: policyShape(await call.iam.managed.get(input.PolicyArn), true) }),
});
