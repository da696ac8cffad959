import { generateKeyPairSync } from 'node:crypto';
import { buildCommit } from '../../src/core/audit/audit-log.js';
import { TrailDeliveryStore } from '../../src/core/audit/trail-delivery.js';
import { ApiCallRecord, EVENT_VERSION, trailTime } from '../../src/core/audit/record.js';
import { TreeHeadSigner } from '../../src/core/audit/tree-head-key.js';
import { AuditStore } from '../../src/store/metadata/audit-types.js';
import { TrailStore } from '../../src/store/metadata/trail-types.js';

/**
 * The stores CloudTrail uses, on one location: trails and delivery read the audit log's position and records,
 * and deleting a trail forgets its delivery.
 */
export interface TrailStores {
  readonly trails: TrailStore;
  readonly delivery: TrailDeliveryStore;
  readonly audit: AuditStore;
}

export const ACCOUNT = '111122223333';
export const OTHER = '444455556666';
export const T0 = Date.parse('2026-03-01T00:00:00Z');

const signer = new TreeHeadSigner(generateKeyPairSync('ed25519').privateKey);

export function auditRecord(id: string, account = ACCOUNT, time = T0): ApiCallRecord {
  return {
    eventVersion: EVENT_VERSION,
    userIdentity: { type: 'Root', principalId: account, arn: `arn:aws:iam::${account}:root`, accountId: account, accessKeyId: 'AKIAEXAMPLE' },
    eventTime: trailTime(time),
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: 'us-east-1',
    sourceIPAddress: '127.0.0.1',
    userAgent: 'contract',
    requestParameters: null,
    responseElements: null,
    requestID: `req-${id}`,
    eventID: id,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
  };
}

/** Commits records to the audit log as AuditLog does, durably. */
export async function commitRecords(audit: AuditStore, records: readonly ApiCallRecord[]): Promise<void> {
  await audit.append((head) => buildCommit(head, records, signer, Date.now()));
  await audit.durable?.();
}
