import { createHash } from 'node:crypto';
import { IncomingHttpHeaders } from 'node:http';
import { ENCRYPTION_CONTEXT_MAX_BYTES, encryptionContextBytes } from '../../core/crypto/encryption-context.js';
import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { AwsError, needs } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { SseChoice } from '../../core/s3/sse.js';
import { BucketEncryption, ObjectEncryption } from '../../store/metadata/s3-types.js';
import { strictUtf8 } from './xml.js';

/**
 * Server-side encryption request and response headers.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html
 */
export const SSE = 'x-amz-server-side-encryption';
export const SSE_KMS_KEY_ID = 'x-amz-server-side-encryption-aws-kms-key-id';
export const SSE_CONTEXT = 'x-amz-server-side-encryption-context';
export const SSE_BUCKET_KEY = 'x-amz-server-side-encryption-bucket-key-enabled';
export const SSE_C_ALGORITHM = 'x-amz-server-side-encryption-customer-algorithm';
export const SSE_C_KEY = 'x-amz-server-side-encryption-customer-key';
export const SSE_C_KEY_MD5 = 'x-amz-server-side-encryption-customer-key-md5';
const COPY_SOURCE_PREFIX = 'x-amz-copy-source-';

const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** A customer-provided key from a request, checked (algorithm, length, MD5). */
export interface CustomerKey {
  readonly key: SecretBytes;
  readonly keyMd5: string;
}

/**
 * The SSE-C headers (`x-amz-server-side-encryption-customer-*`, or with `copySource` the
 * `x-amz-copy-source-server-side-encryption-customer-*` ones); undefined when absent.
 * SSE-C travels only over TLS: a key sent in clear is refused.
 */
export function customerKeyOf(h: IncomingHttpHeaders, secure: boolean, copySource = false): CustomerKey | undefined {
  const p = copySource ? COPY_SOURCE_PREFIX : 'x-amz-';
  const algorithm = header(h, p + SSE_C_ALGORITHM.slice(6));
  const keyB64 = header(h, p + SSE_C_KEY.slice(6));
  const md5 = header(h, p + SSE_C_KEY_MD5.slice(6));
  if (algorithm === undefined && keyB64 === undefined && md5 === undefined) return undefined;
  needs(secure, S3Errors.InvalidRequest, 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  needs(algorithm !== undefined, S3Errors.InvalidArgument, 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.');
  needs(algorithm === 'AES256', S3Errors.InvalidEncryptionAlgorithmError, 'The encryption request you specified is not valid. The valid value is AES256.');
  needs(keyB64 !== undefined && keyB64 !== '', S3Errors.InvalidArgument, 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.');
  const key = Buffer.from(keyB64, 'base64');
  needs(key.length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(keyB64.trim()), S3Errors.InvalidArgument, 'The secret key was invalid for the specified algorithm.');
  needs(md5 !== undefined && md5 !== '', S3Errors.InvalidArgument, 'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.');
  const actual = createHash('md5').update(key).digest('base64');
  needs(actual === md5.trim(), S3Errors.InvalidArgument, 'The calculated MD5 hash of the key did not match the hash that was provided.');
  return { key: SecretBytes.adopt(key), keyMd5: actual };
}

/** The encryption a new object asks for in its headers (undefined: the bucket default decides). */
export function requestedSse(h: IncomingHttpHeaders, secure: boolean): SseChoice | undefined {
  const algorithm = header(h, SSE);
  const keyId = header(h, SSE_KMS_KEY_ID);
  const context = header(h, SSE_CONTEXT);
  const bucketKey = header(h, SSE_BUCKET_KEY);
  const customer = customerKeyOf(h, secure);
  if (customer) {
    needs(algorithm === undefined && keyId === undefined, S3Errors.InvalidArgument, 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified');
    return { kind: 'SSE-C', ...customer };
  }
  if (algorithm === undefined) {
    needs(keyId === undefined && context === undefined, S3Errors.InvalidArgument, 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms');
    return undefined;
  }
  if (algorithm === 'AES256') {
    needs(keyId === undefined && context === undefined, S3Errors.InvalidArgument, 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms');
    return { kind: 'AES256' };
  }
  if (algorithm === 'aws:kms' || algorithm === 'aws:kms:dsse') {
    return {
      kind: 'kms',
      algorithm,
      keyId: keyId === undefined || keyId === '' ? undefined : keyId,
      context: context === undefined ? undefined : parseContext(context),
      bucketKey: parseBool(bucketKey) ?? false,
    };
  }
  throw new AwsError(S3Errors.InvalidArgument, 'The encryption method specified is not supported');
}

/**
 * What a new object gets: the request's headers, else the bucket's default encryption, else SSE-S3
 * (S3 encrypts every new object since January 2023). The bucket's BucketKeyEnabled applies unless the
 * request sets x-amz-server-side-encryption-bucket-key-enabled.
 */
export function effectiveSse(h: IncomingHttpHeaders, secure: boolean, bucket: BucketEncryption | null): SseChoice {
  const requested = requestedSse(h, secure);
  if (requested?.kind === 'SSE-C') {
    needs(!bucket?.blockedTypes.includes('SSE-C'), S3Errors.AccessDenied, 'Requests specifying Server Side Encryption with Customer provided keys are blocked for this bucket.');
    return requested;
  }
  if (requested?.kind === 'kms') {
    const explicit = header(h, SSE_BUCKET_KEY) !== undefined;
    const defaultKeyApplies = bucket !== null && bucket.algorithm !== 'AES256' && requested.keyId === undefined;
    return {
      ...requested,
      keyId: requested.keyId ?? (defaultKeyApplies ? bucket.kmsMasterKeyId : undefined),
      bucketKey: explicit ? requested.bucketKey : (bucket?.bucketKeyEnabled ?? false),
    };
  }
  if (requested) return requested;
  if (bucket === null || bucket.algorithm === 'AES256') return { kind: 'AES256' };
  return { kind: 'kms', algorithm: bucket.algorithm, keyId: bucket.kmsMasterKeyId, context: undefined, bucketKey: bucket.bucketKeyEnabled };
}

function parseContext(b64: string): Record<string, string> {
  let value: unknown;
  try {
    // Invalid UTF-8 is refused, not replaced: the context bound to the object is exactly the one sent.
    value = JSON.parse(strictUtf8.decode(Buffer.from(b64, 'base64')));
  } catch {
    value = undefined;
  }
  const ok = value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every((v) => typeof v === 'string');
  needs(ok, S3Errors.InvalidArgument, 'The header x-amz-server-side-encryption-context must be base64-encoded UTF-8 JSON of string key-value pairs.');
  needs(!Object.keys(value as object).includes('aws:s3:arn'), S3Errors.InvalidArgument, 'The encryption context may not contain the reserved key aws:s3:arn.');
  // KMS's bound on a context (core/crypto/encryption-context.ts), checked before any KMS call.
  needs(
    encryptionContextBytes(value as Record<string, string>) <= ENCRYPTION_CONTEXT_MAX_BYTES,
    S3Errors.InvalidArgument,
    `The encryption context in x-amz-server-side-encryption-context must be at most ${ENCRYPTION_CONTEXT_MAX_BYTES} bytes of keys and values.`,
  );
  return Object.assign(Object.create(null), value) as Record<string, string>;
}

export function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const l = v.trim().toLowerCase();
  needs(l === 'true' || l === 'false', S3Errors.InvalidArgument, `Invalid boolean value ${v.slice(0, 16)}`);
  return l === 'true';
}

/**
 * GET, HEAD (and GetObjectAttributes) read an object as it was stored: its encryption cannot be chosen, so
 * S3 refuses the headers that choose one (400 InvalidArgument, "x-amz-server-side-encryption header is not
 * supported for this operation."; https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html:
 * "If you include this header in a HEAD request for an object that uses these types of keys, you'll get an
 * HTTP 400 Bad Request error"). The SSE-C customer-key headers are not among them: reads need those.
 */
export function refuseSseChoiceOnRead(h: IncomingHttpHeaders): void {
  for (const name of [SSE, SSE_KMS_KEY_ID, SSE_CONTEXT, SSE_BUCKET_KEY]) {
    needs(h[name] === undefined, S3Errors.InvalidArgument, `${name} header is not supported for this operation.`);
  }
}

/** The encryption headers S3 answers with for an object (PUT, GET, HEAD, copy, multipart). */
export function sseResponseHeaders(enc: ObjectEncryption | null, withContext = false): Record<string, string> {
  if (!enc) return {};
  if (enc.algorithm === 'SSE-C') return { [SSE_C_ALGORITHM]: 'AES256', [SSE_C_KEY_MD5]: enc.customerKeyMd5 ?? '' };
  const out: Record<string, string> = { [SSE]: enc.algorithm };
  if (enc.kmsKeyArn !== undefined) out[SSE_KMS_KEY_ID] = enc.kmsKeyArn;
  if (enc.bucketKeyEnabled) out[SSE_BUCKET_KEY] = 'true';
  if (withContext && enc.context) out[SSE_CONTEXT] = Buffer.from(JSON.stringify(enc.context)).toString('base64');
  return out;
}

/** s3:x-amz-server-side-encryption and s3:x-amz-server-side-encryption-aws-kms-key-id as the request sent them. */
export function sseConditions(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const algorithm = header(h, SSE);
  const keyId = header(h, SSE_KMS_KEY_ID);
  if (algorithm !== undefined) out['s3:x-amz-server-side-encryption'] = algorithm;
  if (keyId !== undefined) out['s3:x-amz-server-side-encryption-aws-kms-key-id'] = keyId;
  if (header(h, SSE_C_ALGORITHM) !== undefined) out['s3:x-amz-server-side-encryption-customer-algorithm'] = header(h, SSE_C_ALGORITHM)!;
  return out;
}
