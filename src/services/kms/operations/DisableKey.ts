import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_DisableKey.html */
export const DisableKey = keyOperation<{ KeyId: string }>({
  name: 'DisableKey',
  action: 'kms:DisableKey',
  readOnly: false,
  aliases: false,
  handle: async (_input, call, key) => {
    await call.kms.keys.disable(key);
    return {};
  },
});
