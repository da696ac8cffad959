import { detachPolicy } from '../attached-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_DetachRolePolicy.html */
export const DetachRolePolicy = detachPolicy('role');
