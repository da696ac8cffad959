import { policyOperation } from '../policy-operation.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_SetDefaultPolicyVersion.html — the version every attachment then evaluates. */
export const SetDefaultPolicyVersion = policyOperation<{ PolicyArn: string; VersionId: string }>({
  name: 'SetDefaultPolicyVersion',
  readOnly: false,
  handle: async (input, call) => {
    await call.iam.managed.setDefaultVersion(input.PolicyArn, input.VersionId);
    return {};
  },
});
