import { createHash } from 'node:crypto';
import { Principal } from '../identity/principal.js';

/**
 * One audit record in CloudTrail's format (eventVersion 1.11), as CloudTrail delivers it and as
 * LookupEvents returns it in `CloudTrailEvent`.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html (the KMS Decrypt example)
 */
export const EVENT_VERSION = '1.11';

/** Who made an API call (eventType AwsApiCall). */
export interface UserIdentity {
  type: 'Root' | 'IAMUser' | 'AssumedRole';
  principalId: string;
  arn: string;
  accountId: string;
  accessKeyId: string;
  userName?: string;
  sessionContext?: {
    sessionIssuer?: { type: 'Role'; principalId: string; arn: string; accountId: string; userName: string };
    attributes: { creationDate: string; mfaAuthenticated: 'false' };
  };
  invokedBy?: string;
}

/**
 * The userIdentity of a call an AWS service made as itself, not for a caller (CloudTrail asking KMS for the
 * data key of a trail's log file): the service principal, no account, no access key.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html#cloudtrail-event-reference-user-identity-fields
 */
export interface AwsServiceIdentity {
  type: 'AWSService';
  invokedBy: string;
}

/**
 * Who called, as the resource owner's copy of a cross-account call shows it: the caller's account and
 * principal id only (not its ARN, user name or access key), and the service that called for it if any.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html (AWSAccount)
 */
export interface AwsAccountIdentity {
  type: 'AWSAccount';
  principalId: string;
  accountId: string;
  invokedBy?: string;
}

/**
 * The userIdentity of an event AWS made on its own (eventType AwsServiceEvent): only the account and
 * `invokedBy`, which AWS's KMS examples show as "AWS Internal".
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/non-api-aws-service-events.html
 */
export interface ServiceIdentity {
  accountId: string;
  invokedBy: string;
}

export interface AuditResource {
  accountId: string;
  type: string;
  ARN: string;
}

/** What every record has, whoever caused it. */
interface RecordCommon {
  eventVersion: string;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  eventID: string;
  readOnly: boolean;
  resources?: AuditResource[];
  /** False for data events (S3 object-level calls), which LookupEvents never returns, as AWS. */
  managementEvent: boolean;
  recipientAccountId: string;
  /**
   * Set when the call was delivered to more than one account (the caller's and a resource owner's): the same
   * on every copy, each with its own eventID and recipientAccountId. Absent for a single-account call.
   */
  sharedEventID?: string;
  eventCategory: 'Management' | 'Data';
}

/** The TLS session of a request that came over HTTPS (absent over plain HTTP). */
export interface TlsDetails {
  tlsVersion: string;
  cipherSuite: string;
  clientProvidedHostHeader: string;
}

/** A call of the API by a principal. */
export interface ApiCallRecord extends RecordCommon {
  eventType: 'AwsApiCall';
  userIdentity: UserIdentity | AwsServiceIdentity | AwsAccountIdentity;
  errorCode?: string;
  errorMessage?: string;
  additionalEventData?: Record<string, unknown>;
  requestID: string;
  tlsDetails?: TlsDetails;
}

/**
 * Something the service did on its own, no request behind it (KMS: automatic rotation, deletion at the end
 * of the waiting period): no requestID, no tlsDetails, `serviceEventDetails` where AWS documents them.
 * https://docs.aws.amazon.com/kms/latest/developerguide/ct-rotatekey.html
 */
export interface ServiceEventRecord extends RecordCommon {
  eventType: 'AwsServiceEvent';
  userIdentity: ServiceIdentity;
  serviceEventDetails?: Record<string, unknown>;
}

export type CloudTrailRecord = ApiCallRecord | ServiceEventRecord;

/** CloudTrail's timestamps: ISO 8601 UTC to the second. */
export function trailTime(ms: number): string {
  // Every record of a second has the same eventTime: formatted once per second, not once per record.
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastTrailTime = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    lastSecond = second;
  }
  return lastTrailTime;
}
let lastSecond = NaN;
let lastTrailTime = '';

/**
 * The userIdentity element. `invokedBy` is the calling service's principal (`s3.amazonaws.com`) when a
 * service called on the user's behalf (kms:ViaService `s3.us-east-1.amazonaws.com`).
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
 */
export function userIdentityOf(p: Principal, viaService?: string): UserIdentity {
  const out: UserIdentity = { type: p.type, principalId: p.principalId, arn: p.arn, accountId: p.accountId, accessKeyId: p.accessKeyId };
  if (p.type === 'IAMUser' && p.userName !== undefined) out.userName = p.userName;
  if (p.sessionCreatedAt !== undefined) {
    out.sessionContext = { attributes: { creationDate: trailTime(p.sessionCreatedAt), mfaAuthenticated: 'false' } };
    if (p.type === 'AssumedRole' && p.roleArn !== undefined) {
      out.sessionContext.sessionIssuer = {
        type: 'Role',
        principalId: p.principalId.split(':')[0]!,
        arn: p.roleArn,
        accountId: p.accountId,
        userName: p.roleArn.slice(p.roleArn.lastIndexOf('/') + 1),
      };
    }
  }
  if (viaService !== undefined) out.invokedBy = `${viaService.split('.')[0]}.amazonaws.com`;
  return out;
}

/**
 * The Username LookupEvents shows and filters on: the user name, the role session's name, or "root";
 * none for a service event.
 */
export function lookupUsername(id: UserIdentity | AwsServiceIdentity | AwsAccountIdentity | ServiceIdentity): string | undefined {
  if (!('type' in id) || id.type === 'AWSService' || id.type === 'AWSAccount') return undefined;
  if (id.type === 'Root') return 'root';
  if (id.type === 'AssumedRole') return id.arn.slice(id.arn.lastIndexOf('/') + 1);
  return id.userName ?? id.arn.slice(id.arn.lastIndexOf('/') + 1);
}

/** The access key that signed the call; none for a service event. */
export function lookupAccessKeyId(id: UserIdentity | AwsServiceIdentity | AwsAccountIdentity | ServiceIdentity): string | undefined {
  return 'accessKeyId' in id ? id.accessKeyId : undefined;
}

/**
 * Deterministic JSON: object keys sorted (recursively), no whitespace. What the hash chain hashes, so its
 * output for a given value never changes: members whose value is undefined are left out, an undefined array
 * element is `null`, an array hole is empty (as `[…].map().join()` made it), anything else that is not an
 * object is JSON.stringify's, or `null` where that gives nothing (a function).
 * Built by concatenation, and strings that JSON would not escape are quoted as they are: it runs once per
 * record on the request path (test/unit/audit.test.ts checks it against the reference definition).
 */
export function canonicalJson(v: unknown): string {
  if (typeof v === 'string') return jsonString(v);
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      if (!(i in v)) continue;
      const x: unknown = v[i];
      out += x === undefined ? 'null' : canonicalJson(x);
    }
    return out + ']';
  }
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (const k of keys) {
    const x = obj[k];
    if (x === undefined) continue;
    if (out.length > 1) out += ',';
    out += jsonString(k) + ':' + canonicalJson(x);
  }
  return out + '}';
}

/** What JSON.stringify escapes in a string: '"', '\\', control characters, and (lone) surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** hash_0 = 32 zero bytes; hash_n = SHA-256(hash_{n-1} ‖ UTF-8 canonical JSON of record n), hex. */
export const GENESIS_HASH = '0'.repeat(64);

export function chainHash(prevHex: string, canonical: string): string {
  return createHash('sha256').update(Buffer.from(prevHex, 'hex')).update(canonical, 'utf8').digest('hex');
}
