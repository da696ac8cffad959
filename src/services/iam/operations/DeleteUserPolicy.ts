import { deleteInlinePolicy } from '../inline-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUserPolicy.html */
export const DeleteUserPolicy = deleteInlinePolicy('user');
