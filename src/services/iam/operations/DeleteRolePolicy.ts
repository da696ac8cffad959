import { deleteInlinePolicy } from '../inline-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRolePolicy.html */
export const DeleteRolePolicy = deleteInlinePolicy('role');
