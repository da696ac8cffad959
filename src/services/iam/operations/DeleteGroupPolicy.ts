import { deleteInlinePolicy } from '../inline-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteGroupPolicy.html */
export const DeleteGroupPolicy = deleteInlinePolicy('group');
