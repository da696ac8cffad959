import { keyOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html — 7–30 days, default 30.
 * A multi-Region primary key with replicas becomes PendingReplicaDeletion: its window starts when the last
 * replica is deleted.
 */
export const ScheduleKeyDeletion = keyOperation<{ KeyId: string; PendingWindowInDays?: number }>({
  name: 'ScheduleKeyDeletion',
  action: 'kms:ScheduleKeyDeletion',
  readOnly: false,
  aliases: false,
  handle: async (input, call, key) => {
    const updated = await call.kms.keys.scheduleDeletion(key, input.PendingWindowInDays);
    return {
      KeyId: updated.arn,
      // A multi-Region primary waiting for its replicas (PendingReplicaDeletion) has no deletion date yet.
      DeletionDate: updated.deletionDate === null ? undefined : new Date(updated.deletionDate),
      KeyState: updated.keyState,
      PendingWindowInDays: updated.pendingWindowInDays,
    };
  },
});
