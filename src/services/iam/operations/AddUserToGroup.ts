import { entityOperation } from '../call.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddUserToGroup.html — the resource is the group. */
export const AddUserToGroup = entityOperation({
  name: 'AddUserToGroup',
  readOnly: false,
  kind: 'group',
  entityName: (input: { GroupName: string; UserName: string }) => input.GroupName,
  handle: async (input, call, group) => {
    await call.iam.groups.addUser(group, await call.iam.users.get(call.accountId, input.UserName));
    return {};
  },
});
