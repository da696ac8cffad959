import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_UntagResource.html */
export const UntagResource = keyOperation<{ KeyId: string; TagKeys: string[] }>({
  name: 'UntagResource',
  action: 'kms:UntagResource',
  readOnly: false,
  aliases: false,
  handle: async (input, call, key) => {
    await call.kms.tags.untag(key, input.TagKeys);
    return {};
  },
});
