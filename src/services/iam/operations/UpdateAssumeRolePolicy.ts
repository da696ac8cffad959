import { entityOperation } from '../call.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html */
export const UpdateAssumeRolePolicy = entityOperation({
  name: 'UpdateAssumeRolePolicy',
  readOnly: false,
  kind: 'role',
  entityName: (input: { RoleName: string; PolicyDocument: string }) => input.RoleName,
  handle: async (input, call, role) => {
    await call.iam.roles.updateAssumeRolePolicy(call.accountId, role.roleName, input.PolicyDocument);
    return {};
  },
});
