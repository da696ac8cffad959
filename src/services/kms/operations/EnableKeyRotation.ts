import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html — 90–2560 days, default 365. */
export const EnableKeyRotation = keyOperation<{ KeyId: string; RotationPeriodInDays?: number }>({
  name: 'EnableKeyRotation',
  action: 'kms:EnableKeyRotation',
  readOnly: false,
  aliases: false,
  handle: async (input, call, key) => {
    await call.kms.keys.enableRotation(key, input.RotationPeriodInDays);
    return {};
  },
});
