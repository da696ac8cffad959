import { keyOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_RotateKeyOnDemand.html
 * Adds a key material now (at most 25 times per key); the automatic schedule is unchanged.
 */
export const RotateKeyOnDemand = keyOperation<{ KeyId: string }>({
  name: 'RotateKeyOnDemand',
  action: 'kms:RotateKeyOnDemand',
  readOnly: false,
  aliases: false,
  handle: async (_input, call, key) => {
    await call.kms.keys.rotateOnDemand(key);
    return { KeyId: key.arn };
  },
});
