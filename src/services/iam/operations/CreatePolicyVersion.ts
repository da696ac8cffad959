import { policyOperation } from '../policy-operation.js';
import { versionShape } from '../output.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicyVersion.html — at most five versions (LimitExceeded). */
export const CreatePolicyVersion = policyOperation<{ PolicyArn: string; PolicyDocument: string; SetAsDefault?: boolean }>({
  name: 'CreatePolicyVersion',
  readOnly: false,
  handle: async (input, call) => {
    const version = await call.iam.managed.createVersion(input.PolicyArn, input.PolicyDocument, input.SetAsDefault === true);
    return { PolicyVersion: versionShape(version, false) };
  },
});
