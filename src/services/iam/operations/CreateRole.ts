import { iamArn } from '../../../core/iam/ids.js';
import { IamTag } from '../../../store/metadata/iam-types.js';
import { accountOperation } from '../call.js';
import { roleShape } from '../output.js';
import { noPermissionsBoundary } from '../unsupported.js';

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html — the trust policy must be a
 * valid trust policy (Principal, no Resource; MalformedPolicyDocument) of at most 2,048 characters.
 */
export const CreateRole = accountOperation<{
  RoleName: string;
  Path?: string;
  AssumeRolePolicyDocument: string;
  Description?: string;
  MaxSessionDuration?: number;
  PermissionsBoundary?: string;
  Tags?: IamTag[];
}>({
  name: 'CreateRole',
  readOnly: false,
  resource: (input, call) => iamArn(call.accountId, 'role', input.Path ?? '/', input.RoleName),
  handle: async (input, call) => {
    noPermissionsBoundary(input.PermissionsBoundary);
    const role = await call.iam.roles.create(call.accountId, {
      roleName: input.RoleName,
      assumeRolePolicy: input.AssumeRolePolicyDocument,
      ...(input.Path !== undefined ? { path: input.Path } : {}),
      ...(input.Description !== undefined ? { description: input.Description } : {}),
      ...(input.MaxSessionDuration !== undefined ? { maxSessionDuration: input.MaxSessionDuration } : {}),
      ...(input.Tags !== undefined ? { tags: input.Tags } : {}),
    });
    return { Role: roleShape(role, true) };
  },
});
