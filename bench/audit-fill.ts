import { createHash } from 'node:crypto';
import { buildCommit } from '../src/core/audit/audit-log.js';
import { ApiCallRecord, CloudTrailRecord, EVENT_VERSION, UserIdentity, trailTime } from '../src/core/audit/record.js';
import { TreeHeadSigner } from '../src/core/audit/tree-head-key.js';
import { AuditStore } from '../src/store/metadata/audit-types.js';

/**
 * Synthetic CloudTrail records for bench:audit, shaped like the ones services/audit.ts writes: a few dozen
 * IAM users and role sessions besides root, KMS/IAM/STS event names in realistic proportions (crypto calls
 * dominate), a pool of keys, a few percent of failures, and times spread evenly over `spanMs` up to `endMs`
 * in sequence order. Deterministic (a counter-driven hash, not Math.random) so runs are comparable.
 */
export interface FillSpec {
  readonly records: number;
  readonly accountId: string;
  /** A second account gets every tenth record: LookupEvents must skip what is not the caller's. */
  readonly otherAccountId: string;
  readonly region: string;
  readonly endMs: number;
  readonly spanMs: number;
  readonly users: number;
  readonly roles: number;
  readonly keys: number;
}

/** [event source, event name, read-only, weight, touches a key]. */
const EVENTS: readonly (readonly [string, string, boolean, number, boolean])[] = [
  ['kms', 'Decrypt', true, 30, true],
  ['kms', 'Encrypt', true, 15, true],
  ['kms', 'GenerateDataKey', true, 20, true],
  ['kms', 'GenerateDataKeyWithoutPlaintext', true, 3, true],
  ['kms', 'ReEncrypt', true, 2, true],
  ['kms', 'DescribeKey', true, 8, true],
  ['kms', 'ListKeys', true, 2, false],
  ['kms', 'ListAliases', true, 2, false],
  ['kms', 'GetKeyPolicy', true, 1, true],
  ['kms', 'GetKeyRotationStatus', true, 1, true],
  ['kms', 'CreateKey', false, 1, true],
  ['kms', 'CreateGrant', false, 1, true],
  ['kms', 'ScheduleKeyDeletion', false, 0.2, true],
  ['kms', 'EnableKeyRotation', false, 0.3, true],
  ['kms', 'PutKeyPolicy', false, 0.3, true],
  ['iam', 'GetUser', true, 2, false],
  ['iam', 'ListUsers', true, 1, false],
  ['iam', 'CreateUser', false, 0.2, false],
  ['iam', 'CreateAccessKey', false, 0.2, false],
  ['iam', 'PutUserPolicy', false, 0.3, false],
  ['sts', 'GetCallerIdentity', true, 5, false],
  ['sts', 'AssumeRole', false, 3, false],
  ['cloudtrail', 'LookupEvents', true, 1, false],
];
const TOTAL_WEIGHT = EVENTS.reduce((s, e) => s + e[3], 0);

/** A uniform number in [0, 1) from (i, salt): cheap, deterministic. */
function unit(i: number, salt: number): number {
  let x = (i * 0x9e3779b1 + salt * 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) / 2 ** 32;
}

function uuidOf(i: number, salt: string): string {
  const h = createHash('md5').update(`${salt}:${i}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function keyArnOf(spec: FillSpec, account: string, k: number): string {
  return `arn:aws:kms:${spec.region}:${account}:key/${uuidOf(k, `key-${account}`)}`;
}

export function userNameOf(u: number): string {
  return `user-${String(u).padStart(3, '0')}`;
}

export function accessKeyIdOf(u: number): string {
  return `AKIABENCHUSER${String(u).padStart(7, '0')}`;
}

function identity(spec: FillSpec, account: string, i: number): UserIdentity {
  const who = unit(i, 1);
  if (who < 0.1) return { type: 'Root', principalId: account, arn: `arn:aws:iam::${account}:root`, accountId: account, accessKeyId: 'AKIABENCHROOT0000001' };
  if (who < 0.3) {
    const r = Math.floor(unit(i, 2) * spec.roles);
    const role = `arn:aws:iam::${account}:role/role-${r}`;
    const session = `session-${Math.floor(unit(i, 3) * 20)}`;
    return {
      type: 'AssumedRole',
      principalId: `AROABENCHROLE${String(r).padStart(7, '0')}:${session}`,
      arn: `arn:aws:sts::${account}:assumed-role/role-${r}/${session}`,
      accountId: account,
      accessKeyId: `ASIABENCHSESS${String(r).padStart(7, '0')}`,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: `AROABENCHROLE${String(r).padStart(7, '0')}`, arn: role, accountId: account, userName: `role-${r}` },
        attributes: { creationDate: '2026-01-01T00:00:00Z', mfaAuthenticated: 'false' },
      },
    };
  }
  const u = Math.floor(unit(i, 4) * spec.users);
  return { type: 'IAMUser', principalId: `AIDABENCHUSER${String(u).padStart(7, '0')}`, arn: `arn:aws:iam::${account}:user/${userNameOf(u)}`, accountId: account, accessKeyId: accessKeyIdOf(u), userName: userNameOf(u) };
}

export function recordAt(spec: FillSpec, i: number): CloudTrailRecord {
  const account = i % 10 === 9 ? spec.otherAccountId : spec.accountId;
  let pick = unit(i, 5) * TOTAL_WEIGHT;
  let event = EVENTS[0]!;
  for (const e of EVENTS) {
    pick -= e[3];
    if (pick < 0) {
      event = e;
      break;
    }
  }
  const [source, name, readOnly, , touchesKey] = event;
  const keyArn = touchesKey ? keyArnOf(spec, account, Math.floor(unit(i, 6) * spec.keys)) : undefined;
  const failed = unit(i, 7) < 0.03;
  const record: ApiCallRecord = {
    eventVersion: EVENT_VERSION,
    userIdentity: identity(spec, account, i),
    eventTime: trailTime(spec.endMs - spec.spanMs + Math.floor((i / spec.records) * spec.spanMs)),
    eventSource: `${source}.amazonaws.com`,
    eventName: name,
    awsRegion: spec.region,
    sourceIPAddress: `192.0.2.${(i % 250) + 1}`,
    userAgent: 'aws-sdk-js/3.700.0 ua/2.1 os/linux lang/js md/nodejs#20.20.2 api/kms#3.700.0',
    ...(failed ? { errorCode: 'AccessDeniedException', errorMessage: `User is not authorized to perform: ${source}:${name}` } : {}),
    requestParameters: keyArn ? { keyId: keyArn, encryptionContext: { purpose: 'bench' } } : null,
    responseElements: null,
    requestID: uuidOf(i, 'request'),
    eventID: uuidOf(i, 'event'),
    readOnly,
    ...(keyArn ? { resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: keyArn }] } : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
  };
  return record;
}

/**
 * Appends `spec.records` records through the store's own `append` (the hash chain, Merkle tree, checkpoint and
 * a signed tree head per transaction as the server writes them, so `strongroom audit verify` passes on the
 * result), `batch` per transaction.
 */
export async function fill(store: AuditStore, signer: TreeHeadSigner, spec: FillSpec, batch = 20_000, progress: (done: number) => void = () => {}): Promise<void> {
  for (let start = 0; start < spec.records; start += batch) {
    const end = Math.min(spec.records, start + batch);
    const records: CloudTrailRecord[] = [];
    for (let i = start; i < end; i++) records.push(recordAt(spec, i));
    await store.append((head) => buildCommit(head, records, signer, Date.now()));
    progress(end);
  }
}
