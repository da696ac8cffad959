import { policyOperation } from '../policy-operation.js';
import { versionShape } from '../output.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicyVersion.html — the document URL-encoded, as AWS returns it. */
export const GetPolicyVersion = policyOperation<{ PolicyArn: string; VersionId: string }>({
  name: 'GetPolicyVersion',
  readOnly: true,
  handle: async (input, call) => ({ PolicyVersion: versionShape(await call.iam.managed.getVersion(input.PolicyArn, input.VersionId), true) }),
});
