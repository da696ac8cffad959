import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKey.html */
export const EnableKey = keyOperation<{ KeyId: string }>({
  name: 'EnableKey',
  action: 'kms:EnableKey',
  readOnly: false,
  aliases: false,
  handle: async (_input, call, key) => {
    await call.kms.keys.enable(key);
    return {};
  },
});
