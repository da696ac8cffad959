import { listAttachedPolicies } from '../attached-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedRolePolicies.html */
export const ListAttachedRolePolicies = listAttachedPolicies('role');
