import { attachPolicy } from '../attached-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html — at most 10 managed policies per role. */
export const AttachRolePolicy = attachPolicy('role');
