import { keyOperation } from '../call.js';
import { keyMetadata } from '../key-metadata.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html */
export const DescribeKey = keyOperation<{ KeyId: string }>({
  name: 'DescribeKey',
  action: 'kms:DescribeKey',
  readOnly: true,
  aliases: true,
  handle: async (_input, _call, key) => ({ KeyMetadata: keyMetadata(key) }),
});
