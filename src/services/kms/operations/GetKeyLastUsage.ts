import { keyOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyLastUsage.html (the model: model-newer.json)
 * Key ID or key ARN, in any key state. KeyLastUsage is an empty object while the key has no use since
 * TrackingStartDate (the later of this deployment's tracking start and the key's creation). Uses reach the
 * database at each server's flush (src/core/kms/key-last-usage.ts): another server's show within its interval.
 */
export const GetKeyLastUsage = keyOperation<{ KeyId: string }>({
  name: 'GetKeyLastUsage',
  action: 'kms:GetKeyLastUsage',
  readOnly: true,
  aliases: false,
  handle: async (_input, call, key) => {
    const { usage, trackingStartDate } = await call.kms.lastUsage.get(key);
    return {
      KeyId: key.keyId,
      KeyLastUsage: usage
        ? { Operation: usage.operation, Timestamp: new Date(usage.usedAt), CloudTrailEventId: usage.cloudTrailEventId, KmsRequestId: usage.requestId }
        : {},
      TrackingStartDate: new Date(trackingStartDate),
      KeyCreationDate: new Date(key.createdAt),
    };
  },
});
