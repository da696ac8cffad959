import { iamArn } from '../../../core/iam/ids.js';
import { accountOperation } from '../call.js';
import { userShape } from '../output.js';
import { PageInput, listOptions, pageOutput } from '../paging.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html — sorted by name, optionally under a path. */
export const ListUsers = accountOperation<PageInput>({
  name: 'ListUsers',
  readOnly: true,
  resource: (_input, call) => iamArn(call.accountId, 'user', '/', ''),
  handle: async (input, call) => {
    const page = await call.iam.users.list(call.accountId, listOptions('ListUsers', input));
    return { Users: page.items.map((u) => userShape(u)), ...pageOutput('ListUsers', page) };
  },
});
