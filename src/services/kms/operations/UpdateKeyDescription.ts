import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateKeyDescription.html */
export const UpdateKeyDescription = keyOperation<{ KeyId: string; Description: string }>({
  name: 'UpdateKeyDescription',
  action: 'kms:UpdateKeyDescription',
  readOnly: false,
  aliases: false,
  handle: async (input, call, key) => {
    await call.kms.keys.updateDescription(key, input.Description);
    return {};
  },
});
