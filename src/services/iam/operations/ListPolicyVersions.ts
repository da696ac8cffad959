import { policyOperation } from '../policy-operation.js';
import { versionShape } from '../output.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicyVersions.html — newest first; at most five, one page. */
export const ListPolicyVersions = policyOperation<{ PolicyArn: string; Marker?: string; MaxItems?: number }>({
  name: 'ListPolicyVersions',
  readOnly: true,
  handle: async (input, call) => {
    const versions = await call.iam.managed.listVersions(input.PolicyArn);
    return { Versions: versions.map((v) => versionShape(v, false)), IsTruncated: false };
  },
});
