import { entityOperation } from '../call.js';
import { groupShape } from '../output.js';
import { PageInput, listOptions, pageOutput } from '../paging.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListGroupsForUser.html */
export const ListGroupsForUser = entityOperation({
  name: 'ListGroupsForUser',
  readOnly: true,
  kind: 'user',
  entityName: (input: { UserName: string } & PageInput) => input.UserName,
  handle: async (input, call, user) => {
    const page = await call.iam.groups.groupsOf(user, listOptions('ListGroupsForUser', { ...input, PathPrefix: undefined }));
    return { Groups: page.items.map(groupShape), ...pageOutput('ListGroupsForUser', page) };
  },
});
