import { policyOperation } from '../policy-operation.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicyVersion.html — never the default version (DeleteConflict). */
export const DeletePolicyVersion = policyOperation<{ PolicyArn: string; VersionId: string }>({
  name: 'DeletePolicyVersion',
  readOnly: false,
  handle: async (input, call) => {
    await call.iam.managed.deleteVersion(input.PolicyArn, input.VersionId);
    return {};
  },
});
