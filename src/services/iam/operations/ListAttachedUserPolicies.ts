import { listAttachedPolicies } from '../attached-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedUserPolicies.html */
export const ListAttachedUserPolicies = listAttachedPolicies('user');
