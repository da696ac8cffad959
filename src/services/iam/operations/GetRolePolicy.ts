import { getInlinePolicy } from '../inline-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html — the document URL-encoded, as AWS returns it. */
export const GetRolePolicy = getInlinePolicy('role');
