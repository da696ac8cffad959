import { entityOperation } from '../call.js';
import { groupShape, userShape } from '../output.js';
import { PageInput, listOptions, pageOutput } from '../paging.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetGroup.html — the group and a page of its members. */
export const GetGroup = entityOperation({
  name: 'GetGroup',
  readOnly: true,
  kind: 'group',
  entityName: (input: { GroupName: string } & PageInput) => input.GroupName,
  handle: async (input, call, group) => {
    const page = await call.iam.groups.members(group, listOptions('GetGroup', { ...input, PathPrefix: undefined }));
    return { Group: groupShape(group), Users: page.items.map((u) => userShape(u)), ...pageOutput('GetGroup', page) };
  },
});
