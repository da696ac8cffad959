import { putInlinePolicy } from '../inline-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPolicy.html — creates or replaces an inline policy. */
export const PutUserPolicy = putInlinePolicy('user');
