import { listAttachedPolicies } from '../attached-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedGroupPolicies.html */
export const ListAttachedGroupPolicies = listAttachedPolicies('group');
