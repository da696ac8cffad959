import { attachPolicy } from '../attached-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachUserPolicy.html — at most 10 managed policies per user. */
export const AttachUserPolicy = attachPolicy('user');
