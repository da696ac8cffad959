import { getInlinePolicy } from '../inline-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetGroupPolicy.html — the document URL-encoded, as AWS returns it. */
export const GetGroupPolicy = getInlinePolicy('group');
