import { entityOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html — refused (DeleteConflict) while
 * the user has access keys, inline or attached policies, or group memberships.
 */
export const DeleteUser = entityOperation({
  name: 'DeleteUser',
  readOnly: false,
  kind: 'user',
  entityName: (input: { UserName: string }) => input.UserName,
  handle: async (_input, call, user) => {
    await call.iam.users.delete(call.accountId, user.userName);
    return {};
  },
});
