import { entityOperation } from '../call.js';
import { roleShape } from '../output.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html — the trust policy URL-encoded, as AWS returns it. */
export const GetRole = entityOperation({
  name: 'GetRole',
  readOnly: true,
  kind: 'role',
  entityName: (input: { RoleName: string }) => input.RoleName,
  handle: async (_input, _call, role) => ({ Role: roleShape(role, true) }),
});
