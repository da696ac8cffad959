import { listInlinePolicies } from '../inline-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListGroupPolicies.html — names of the inline policies. */
export const ListGroupPolicies = listInlinePolicies('group');
