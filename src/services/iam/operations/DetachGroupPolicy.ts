import { detachPolicy } from '../attached-policy-operations.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_DetachGroupPolicy.html */
export const DetachGroupPolicy = detachPolicy('group');
