import { accessKeyOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html — at most two keys per user
 * (LimitExceeded); the secret is in this answer and nowhere else, ever.
 */
export const CreateAccessKey = accessKeyOperation<{ UserName?: string }>({
  name: 'CreateAccessKey',
  readOnly: false,
  handle: async (_input, call, owner) => {
    const { key, secretAccessKey } = await call.iam.accessKeys.create(call.accountId, owner.user);
    return {
      AccessKey: {
        ...(key.userName !== null ? { UserName: key.userName } : {}),
        AccessKeyId: key.accessKeyId,
        Status: key.status,
        SecretAccessKey: secretAccessKey,
        CreateDate: new Date(key.createdAt),
      },
    };
  },
});
