import { iamArn } from '../../../core/iam/ids.js';
import { accountOperation } from '../call.js';
import { groupShape } from '../output.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateGroup.html */
export const CreateGroup = accountOperation<{ GroupName: string; Path?: string }>({
  name: 'CreateGroup',
  readOnly: false,
  resource: (input, call) => iamArn(call.accountId, 'group', input.Path ?? '/', input.GroupName),
  handle: async (input, call) => {
    const group = await call.iam.groups.create(call.accountId, { groupName: input.GroupName, ...(input.Path !== undefined ? { path: input.Path } : {}) });
    return { Group: groupShape(group) };
  },
});
