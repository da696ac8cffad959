import { listInlinePolicies } from '../inline-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUserPolicies.html — names of the inline policies. */
export const ListUserPolicies = listInlinePolicies('user');
