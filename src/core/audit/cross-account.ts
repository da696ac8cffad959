import { randomUUID } from 'node:crypto';
import { ApiCallRecord, AwsAccountIdentity } from './record.js';
import { newEventId } from './event-id.js';

/**
 * The copies of one call's record, one per recipient account, as CloudTrail delivers a call that touched
 * another account's resource (account B using account A's KMS key, assuming A's role, reading A's bucket):
 * the caller's account gets the record as it is; each other owner gets its own copy with its own eventID
 * and recipientAccountId, a userIdentity showing only the calling account and principal id (AWSAccount), and
 * every copy carries the same sharedEventID. A call within one account stays one record, without
 * sharedEventID.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/shared-event-ID.html
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html (sharedEventID)
 *
 * One record per copy, not one record with two recipients: each copy is a leaf of the hash chain and the
 * Merkle tree like any record, so `strongroom audit verify` and inclusion proofs need nothing new, and every
 * reader — LookupEvents, the trails' delivery, a log file's digest — sees exactly the record its account
 * would get from AWS, never another account's view of the caller. The copies are committed together (one
 * AuditLog.appendAll, one transaction).
 */
export function recipientCopies(record: ApiCallRecord, owners: Iterable<string>): ApiCallRecord[] {
  const others = [...new Set(owners)].filter((a) => a !== record.recipientAccountId);
  if (others.length === 0) return [record];
  const sharedEventID = randomUUID();
  return [
    { ...record, sharedEventID },
    ...others.map((accountId) => ({ ...record, userIdentity: ownerView(record.userIdentity), eventID: newEventId(), recipientAccountId: accountId, sharedEventID })),
  ];
}

function ownerView(id: ApiCallRecord['userIdentity']): ApiCallRecord['userIdentity'] {
  if (id.type === 'AWSService' || id.type === 'AWSAccount') return id;
  const out: AwsAccountIdentity = { type: 'AWSAccount', principalId: id.principalId, accountId: id.accountId };
  if (id.invokedBy !== undefined) out.invokedBy = id.invokedBy;
  return out;
}
