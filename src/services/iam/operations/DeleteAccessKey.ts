import { accessKeyOperation } from '../call.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteAccessKey.html — the key stops working at once. */
export const DeleteAccessKey = accessKeyOperation<{ UserName?: string; AccessKeyId: string }>({
  name: 'DeleteAccessKey',
  readOnly: false,
  handle: async (input, call, owner) => {
    await call.iam.accessKeys.delete(call.accountId, owner.userName, input.AccessKeyId);
    return {};
  },
});
