import { policyOperation } from '../policy-operation.js';

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicy.html — refused (DeleteConflict) while
 * attached to a user, group or role, or while it has versions besides the default.
 */
export const DeletePolicy = policyOperation<{ PolicyArn: string }>({
  name: 'DeletePolicy',
  readOnly: false,
  handle: async (input, call) => {
    await call.iam.managed.delete(input.PolicyArn);
    return {};
  },
});
