import { detachPolicy } from '../attached-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_DetachUserPolicy.html */
export const DetachUserPolicy = detachPolicy('user');
