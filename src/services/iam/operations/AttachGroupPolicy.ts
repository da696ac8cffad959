import { attachPolicy } from '../attached-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachGroupPolicy.html — at most 10 managed policies per group. */
export const AttachGroupPolicy = attachPolicy('group');
