import { entityOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteGroup.html — refused (DeleteConflict) while
 * the group has members, inline or attached policies.
 */
export const DeleteGroup = entityOperation({
  name: 'DeleteGroup',
  readOnly: false,
  kind: 'group',
  entityName: (input: { GroupName: string }) => input.GroupName,
  handle: async (_input, call, group) => {
    await call.iam.groups.delete(call.accountId, group.groupName);
    return {};
  },
});
