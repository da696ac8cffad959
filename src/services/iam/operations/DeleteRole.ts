import { entityOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html — refused (DeleteConflict) while the
 * role has inline or attached policies. Sessions already issued keep working until they expire, with no
 * permissions (their role's policies are gone).
 */
export const DeleteRole = entityOperation({
  name: 'DeleteRole',
  readOnly: false,
  kind: 'role',
  entityName: (input: { RoleName: string }) => input.RoleName,
  handle: async (_input, call, role) => {
    await call.iam.roles.delete(call.accountId, role.roleName);
    return {};
  },
});
