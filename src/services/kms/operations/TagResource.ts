import { Tag } from '../../../store/metadata/types.js';
import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_TagResource.html — existing tag keys are overwritten. */
export const TagResource = keyOperation<{ KeyId: string; Tags: Tag[] }>({
  name: 'TagResource',
  action: 'kms:TagResource',
  readOnly: false,
  aliases: false,
  handle: async (input, call, key) => {
    await call.kms.tags.tag(key, input.Tags);
    return {};
  },
});
