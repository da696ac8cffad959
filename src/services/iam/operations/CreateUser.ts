import { iamArn } from '../../../core/iam/ids.js';
import { IamTag } from '../../../store/metadata/iam-types.js';
import { accountOperation } from '../call.js';
import { noPermissionsBoundary } from '../unsupported.js';
import { userShape } from '../output.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html */
export const CreateUser = accountOperation<{ UserName: string; Path?: string; PermissionsBoundary?: string; Tags?: IamTag[] }>({
  name: 'CreateUser',
  readOnly: false,
  resource: (input, call) => iamArn(call.accountId, 'user', input.Path ?? '/', input.UserName),
  handle: async (input, call) => {
    noPermissionsBoundary(input.PermissionsBoundary);
    const user = await call.iam.users.create(call.accountId, {
      userName: input.UserName,
      ...(input.Path !== undefined ? { path: input.Path } : {}),
      ...(input.Tags !== undefined ? { tags: input.Tags } : {}),
    });
    return { User: userShape(user, true) };
  },
});
