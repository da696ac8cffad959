import { iamArn } from '../../../core/iam/ids.js';
import { accountOperation } from '../call.js';
import { groupShape } from '../output.js';
import { PageInput, listOptions, pageOutput } from '../paging.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListGroups.html */
export const ListGroups = accountOperation<PageInput>({
  name: 'ListGroups',
  readOnly: true,
  resource: (_input, call) => iamArn(call.accountId, 'group', '/', ''),
  handle: async (input, call) => {
    const page = await call.iam.groups.list(call.accountId, listOptions('ListGroups', input));
    return { Groups: page.items.map(groupShape), ...pageOutput('ListGroups', page) };
  },
});
