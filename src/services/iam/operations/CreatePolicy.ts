import { iamArn } from '../../../core/iam/ids.js';
import { IamTag } from '../../../store/metadata/iam-types.js';
import { accountOperation } from '../call.js';
import { policyShape } from '../output.js';

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html — the document becomes version
 * v1, the default; at most 6,144 characters (white space not counted).
 */
export const CreatePolicy = accountOperation<{ PolicyName: string; Path?: string; PolicyDocument: string; Description?: string; Tags?: IamTag[] }>({
  name: 'CreatePolicy',
  readOnly: false,
  resource: (input, call) => iamArn(call.accountId, 'policy', input.Path ?? '/', input.PolicyName),
  handle: async (input, call) => {
    const policy = await call.iam.managed.create(call.accountId, {
      policyName: input.PolicyName,
      document: input.PolicyDocument,
      ...(input.Path !== undefined ? { path: input.Path } : {}),
      ...(input.Description !== undefined ? { description: input.Description } : {}),
      ...(input.Tags !== undefined ? { tags: input.Tags } : {}),
    });
    return { Policy: policyShape(policy, true) };
  },
});
