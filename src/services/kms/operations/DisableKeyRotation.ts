import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_DisableKeyRotation.html */
export const DisableKeyRotation = keyOperation<{ KeyId: string }>({
  name: 'DisableKeyRotation',
  action: 'kms:DisableKeyRotation',
  readOnly: false,
  aliases: false,
  handle: async (_input, call, key) => {
    await call.kms.keys.disableRotation(key);
    return {};
  },
});
