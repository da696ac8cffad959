import { newEventId } from './event-id.js';
import { EVENT_VERSION, ServiceEventRecord, trailTime } from './record.js';

/** The key a service event is about. */
export interface EventKey {
  readonly keyId: string;
  readonly arn: string;
  readonly accountId: string;
  readonly region: string;
}

/**
 * AWS records events it makes on its own with `invokedBy`, `sourceIPAddress` and `userAgent` all
 * "AWS Internal" and no requestID; we do the same so that tools written against AWS's records read ours.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/non-api-aws-service-events.html
 */
const AWS_INTERNAL = 'AWS Internal';

function kmsServiceEvent(eventName: string, key: EventKey, now: number, serviceEventDetails?: Record<string, unknown>): ServiceEventRecord {
  return {
    eventVersion: EVENT_VERSION,
    userIdentity: { accountId: key.accountId, invokedBy: AWS_INTERNAL },
    eventTime: trailTime(now),
    eventSource: 'kms.amazonaws.com',
    eventName,
    awsRegion: key.region,
    sourceIPAddress: AWS_INTERNAL,
    userAgent: AWS_INTERNAL,
    requestParameters: null,
    responseElements: null,
    eventID: newEventId(),
    readOnly: false,
    resources: [{ accountId: key.accountId, type: 'AWS::KMS::Key', ARN: key.arn }],
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: key.accountId,
    eventCategory: 'Management',
    ...(serviceEventDetails ? { serviceEventDetails } : {}),
  };
}

/**
 * KMS rotated a key's material: automatically when its rotation date passed, or on demand (RotateKeyOnDemand
 * is recorded as its own AwsApiCall, and the rotation itself as this event with rotationType ON_DEMAND).
 * https://docs.aws.amazon.com/kms/latest/developerguide/ct-rotatekey.html
 */
export function keyRotatedEvent(key: EventKey, rotationType: 'AUTOMATIC' | 'ON_DEMAND', now: number): ServiceEventRecord {
  return kmsServiceEvent('RotateKey', key, now, { rotationType, keyId: key.keyId });
}

/**
 * KMS deleted a key at the end of its waiting period (ScheduleKeyDeletion is the call that asked for it).
 * AWS's current example of this record has no serviceEventDetails.
 * https://docs.aws.amazon.com/kms/latest/developerguide/ct-delete-key.html
 */
export function keyDeletedEvent(key: EventKey, now: number): ServiceEventRecord {
  return kmsServiceEvent('DeleteKey', key, now);
}

/**
 * KMS deleted imported key material whose ValidTo passed (the key becomes PendingImport).
 * https://docs.aws.amazon.com/kms/latest/developerguide/ct-deleteexpiredkeymaterial.html
 */
export function expiredKeyMaterialDeletedEvent(key: EventKey, keyMaterialId: string, now: number): ServiceEventRecord {
  return kmsServiceEvent('DeleteExpiredKeyMaterial', key, now, { keyId: key.keyId, keyMaterialId });
}

/**
 * The KMS lifecycle's event port (src/core/kms/lifecycle.ts#KeyLifecycleEvents), recorded in the audit log:
 * each resolves once the record is committed, and the transition happens only after that (write-ahead), so
 * a transition is never without its record. A transition whose record failed is retried by the next read or
 * sweep, which may then record it a second time.
 */
export function auditedKeyLifecycle(audit: { append(record: ServiceEventRecord): Promise<void> }, now: () => number = Date.now) {
  return {
    rotating: (key: EventKey, rotationType: 'AUTOMATIC' | 'ON_DEMAND') => audit.append(keyRotatedEvent(key, rotationType, now())),
    deleting: (key: EventKey) => audit.append(keyDeletedEvent(key, now())),
    expiring: (key: EventKey, keyMaterialId: string) => audit.append(expiredKeyMaterialDeletedEvent(key, keyMaterialId, now())),
  };
}
