import { AuditDetails, CallOutcome } from '../audit.js';
import { RequestContext } from '../operation.js';
import { bucketArn, objectArn } from '../../core/s3/names.js';
import { S3Input, S3Reply } from './call.js';

/**
 * S3 calls as CloudTrail records them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-understanding-s3-entries.html):
 * requestParameters name the bucket, the Host and the key, plus the sub-resource and the request's
 * encryption headers; responseElements the encryption and version headers of the answer; resources the
 * object and its bucket; object-level calls are data events (managementEvent false, eventCategory Data),
 * which LookupEvents does not return. additionalEventData as S3 adds it. Never recorded: SSE-C keys,
 * bodies.
 */
const DATA_EVENTS = new Set([
  'PutObject', 'PostObject', 'GetObject', 'HeadObject', 'DeleteObject', 'DeleteObjects', 'CopyObject', 'ListObjects', 'ListObjectsV2',
  'ListObjectVersions', 'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload', 'AbortMultipartUpload', 'ListParts',
  'ListMultipartUploads', 'GetObjectTagging', 'GetObjectAttributes',
]);
/** Request headers shown in requestParameters (never the customer key itself). */
const SHOWN_HEADERS = [
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-context',
  'x-amz-server-side-encryption-bucket-key-enabled',
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-copy-source',
];
const SHOWN_RESPONSE = /^x-amz-(server-side-encryption(-aws-kms-key-id|-bucket-key-enabled|-customer-algorithm)?|version-id|delete-marker)$/;

export function s3AuditDetails(operation: string, request: RequestContext, outcome: CallOutcome): AuditDetails {
  const input = outcome.input as S3Input | undefined;
  if (!input) return {};
  const params: Record<string, unknown> = {};
  if (input.bucket !== undefined) params.bucketName = input.bucket;
  params.Host = input.host;
  if (input.key !== undefined) params.key = input.key;
  for (const [name, value] of input.query) if (!name.startsWith('X-Amz-')) params[name] = value;
  for (const h of SHOWN_HEADERS) {
    const v = input.headers[h];
    if (typeof v === 'string') params[h] = v;
  }
  const reply = outcome.output as S3Reply | undefined;
  let responseElements: Record<string, unknown> | null = null;
  if (reply?.headers) {
    const shown = Object.entries(reply.headers).filter(([k]) => SHOWN_RESPONSE.test(k));
    if (shown.length > 0) responseElements = Object.fromEntries(shown);
  }
  const resources = [];
  if (input.bucket !== undefined && input.key !== undefined) resources.push({ type: 'AWS::S3::Object', ARN: objectArn(input.bucket, input.key) });
  if (input.bucket !== undefined) resources.push({ accountId: outcome.access[0]?.ownerAccountId ?? request.principal.accountId, type: 'AWS::S3::Bucket', ARN: bucketArn(input.bucket) });
  return {
    requestParameters: params,
    responseElements,
    resources: resources as AuditDetails['resources'],
    dataEvent: DATA_EVENTS.has(operation),
    additionalEventData: {
      SignatureVersion: 'SigV4',
      ...(request.tlsDetails ? { CipherSuite: request.tlsDetails.cipherSuite } : {}),
      bytesTransferredIn: input.body.length ?? 0,
      AuthenticationMethod: input.form ? 'HttpPost' : input.query.has('X-Amz-Algorithm') ? 'QueryString' : 'AuthHeader',
      'x-amz-id-2': Buffer.from(request.requestId).toString('base64'),
      bytesTransferredOut: reply?.length ?? (reply?.xml !== undefined ? Buffer.byteLength(reply.xml) : 0),
    },
  };
}
