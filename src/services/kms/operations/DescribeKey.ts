import { keyOperation } from '../call.js';
import { keyMetadata } from '../key-metadata.js';
import { inCustomKeyStore } from '../custom-key-store-call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html */
export const DescribeKey = keyOperation<{ KeyId: string }>({
  name: 'DescribeKey',
  action: 'kms:DescribeKey',
  crossAccount: true,
  readOnly: true,
  aliases: true,
  handle: async (_input, call, key) => ({
    KeyMetadata: keyMetadata(key, await inCustomKeyStore(call.kms, key), await call.kms.multiRegion.configuration(key)),
  }),
});
