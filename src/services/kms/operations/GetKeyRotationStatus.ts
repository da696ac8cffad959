import { needsSupportedRotation } from '../../../core/kms/keys.js';
import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyRotationStatus.html */
export const GetKeyRotationStatus = keyOperation<{ KeyId: string }>({
  name: 'GetKeyRotationStatus',
  action: 'kms:GetKeyRotationStatus',
  crossAccount: true,
  readOnly: true,
  aliases: false,
  handle: async (_input, _call, key) => (needsSupportedRotation(key), {
    KeyId: key.arn,
    KeyRotationEnabled: key.rotationEnabled,
    RotationPeriodInDays: key.rotationEnabled ? key.rotationPeriodInDays : undefined,
    NextRotationDate: key.rotationEnabled && key.nextRotationDate !== null ? new Date(key.nextRotationDate) : undefined,
    OnDemandRotationStartDate: key.onDemandRotationStartDate === null ? undefined : new Date(key.onDemandRotationStartDate),
  }),
});
