import { iamArn } from '../../../core/iam/ids.js';
import { accountOperation } from '../call.js';
import { policyShape } from '../output.js';
import { PageInput, listOptions, pageOutput } from '../paging.js';

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html — this server has customer
 * managed policies only (Scope=AWS lists none); OnlyAttached keeps those attached to something.
 */
export const ListPolicies = accountOperation<PageInput & { Scope?: string; OnlyAttached?: boolean }>({
  name: 'ListPolicies',
  readOnly: true,
  resource: (_input, call) => iamArn(call.accountId, 'policy', '/', ''),
  handle: async (input, call) => {
    if (input.Scope === 'AWS') return { Policies: [], IsTruncated: false };
    const page = await call.iam.managed.list(call.accountId, { ...listOptions('ListPolicies', input), onlyAttached: input.OnlyAttached === true });
    return { Policies: page.items.map((p) => policyShape(p)), ...pageOutput('ListPolicies', page) };
  },
});
