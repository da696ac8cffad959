import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_CancelKeyDeletion.html — the key comes back Disabled. */
export const CancelKeyDeletion = keyOperation<{ KeyId: string }>({
  name: 'CancelKeyDeletion',
  action: 'kms:CancelKeyDeletion',
  readOnly: false,
  aliases: false,
  handle: async (_input, call, key) => {
    await call.kms.keys.cancelDeletion(key);
    return { KeyId: key.arn };
  },
});
