import { iamArn } from '../../../core/iam/ids.js';
import { accountOperation } from '../call.js';
import { roleShape } from '../output.js';
import { PageInput, listOptions, pageOutput } from '../paging.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html */
export const ListRoles = accountOperation<PageInput>({
  name: 'ListRoles',
  readOnly: true,
  resource: (_input, call) => iamArn(call.accountId, 'role', '/', ''),
  handle: async (input, call) => {
    const page = await call.iam.roles.list(call.accountId, listOptions('ListRoles', input));
    return { Roles: page.items.map((r) => roleShape(r)), ...pageOutput('ListRoles', page) };
  },
});
