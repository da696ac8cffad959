import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AwsError, needs } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { BodyTap, MAX_PUT_BYTES, WrittenPart, writePart } from '../../core/s3/bodies.js';
import { BucketRecord, ObjectVersionRecord, StoredPart, UploadRecord } from '../../store/metadata/s3-types.js';
import { S3Call, S3Input } from './call.js';
import { partDigest, partEtagOf, removeBlobs } from './object-writes.js';
import { canonicalUserId } from './resources.js';
import { customerKeyOf } from './sse-headers.js';

/**
 * Multipart upload limits and the pieces every multipart operation shares.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
 */
export const MAX_PART_NUMBER = 10_000;
/** Every part but the last must be at least 5 MiB (EntityTooSmall at completion). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** ListParts and ListMultipartUploads answer at most 1,000 entries per page. */
export const MAX_LIST = 1000;

/**
 * A new upload id. The first 12 characters are the creation time in hex, so that the store's
 * (key, upload id) order lists the uploads of one key oldest first, as S3 does
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html: "sorted by upload
 * initiation time"); the rest is 48 random bytes.
 */
export function newUploadId(now: number): string {
  return now.toString(16).padStart(12, '0') + randomBytes(48).toString('base64url');
}

export function noSuchUpload(): AwsError {
  return new AwsError(S3Errors.NoSuchUpload, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
}

/** The upload `uploadId` names on this bucket and key; NoSuchUpload otherwise (completed and aborted ones too). */
export async function needUpload(call: S3Call, bucket: string, key: string, uploadId: string | null): Promise<UploadRecord> {
  const upload = uploadId ? await call.deps.store.getUpload(bucket, key, uploadId) : undefined;
  if (!upload) throw noSuchUpload();
  return upload;
}

/** The partNumber query parameter: an integer from 1 to 10,000 (InvalidArgument otherwise, as S3 words it). */
export function partNumberOf(value: string | null): number {
  const n = Number(value);
  needs(value !== null && /^\d{1,5}$/.test(value) && n >= 1 && n <= MAX_PART_NUMBER, S3Errors.InvalidArgument, 'Part number must be an integer between 1 and 10000, inclusive');
  return n;
}

/** A non-negative integer query parameter (max-parts, part-number-marker, max-uploads); `fallback` when absent. */
export function integerParam(value: string | null, name: string, fallback: number): number {
  if (value === null) return fallback;
  const n = Number(value);
  needs(/^\d+$/.test(value) && Number.isSafeInteger(n), S3Errors.InvalidArgument, `Provided ${name} not an integer or within integer range`);
  return n;
}

/**
 * The upload's object key, for writing a part. An SSE-C upload needs the same customer key on every part
 * request (missing → 400, another key → 403 AccessDenied, as S3 answers); an SSE-KMS upload decrypts its
 * data key as the requester, which is why S3 requires kms:Decrypt for multipart uploads
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions).
 */
export async function openUploadKey(call: S3Call, input: S3Input, bucket: BucketRecord, upload: UploadRecord): Promise<Buffer> {
  const customer = customerKeyOf(input.headers, call.request.secureTransport);
  if (upload.encryption.algorithm === 'SSE-C') {
    needs(customer, S3Errors.InvalidRequest, 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.');
  } else {
    needs(!customer, S3Errors.InvalidRequest, 'The multipart upload initiate did not request encryption with customer provided keys. Subsequent part requests must not include them.');
  }
  return call.deps.keys.open(upload.encryption, { bucket: upload.bucket, key: upload.key }, call.kmsFor(bucket), customer);
}

/**
 * Seals `body` as part `partNumber` of the upload and records it, replacing a part of the same number
 * (whose blob then goes). The part's key is derived from the upload's object key, its number and a fresh
 * salt (writePart). Its ETag is its MD5 under SSE-S3; under SSE-KMS and SSE-C an HMAC of its bytes keyed
 * per upload (partDigest): opaque, yet the same for the same bytes, so a retried part keeps the ETag the
 * client already holds. An upload completed or aborted while the part streamed leaves no blob behind.
 */
export async function storePart(
  call: S3Call,
  upload: UploadRecord,
  partNumber: number,
  body: Readable,
  objectKey: Buffer,
  taps: readonly BodyTap[],
  checksum: () => Readonly<Record<string, string>> | undefined,
): Promise<StoredPart> {
  const digest = partDigest(upload.encryption, objectKey);
  let written: WrittenPart;
  try {
    written = await writePart(call.deps.blobs, body, objectKey, { bucket: upload.bucket, key: upload.key }, partNumber, taps, MAX_PUT_BYTES, undefined, digest);
  } finally {
    if (typeof digest === 'object') digest.hmacKey.fill(0);
  }
  const { digest: value, ...rest } = written;
  const sums = checksum();
  const part: StoredPart = {
    ...rest,
    etag: partEtagOf(value),
    lastModified: call.deps.clock.now(),
    ...(sums ? { checksum: sums } : {}),
  };
  let replaced: StoredPart | undefined;
  try {
    replaced = await call.deps.store.putPart(upload.uploadId, part);
  } catch (err) {
    await removeBlobs(call, [part]);
    if (!(await call.deps.store.getUpload(upload.bucket, upload.key, upload.uploadId))) throw noSuchUpload();
    throw err;
  }
  if (replaced) await removeBlobs(call, [replaced]);
  return part;
}

/**
 * A multipart object's ETag: the MD5 of the concatenated binary ETags of its parts, then `-<count>`
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html#large-object-checksums).
 */
export function multipartEtag(parts: readonly StoredPart[]): string {
  const md5 = createHash('md5');
  for (const p of parts) md5.update(Buffer.from(p.etag, 'hex'));
  return `${md5.digest('hex')}-${parts.length}`;
}

/** An ETag as a client sends it back (quoted or not). */
export const unquote = (etag: string): string => etag.trim().replace(/^"(.*)"$/, '$1');

/** Initiator/ID: an IAM principal's ARN, or the account's canonical user id for its root user (as S3 shows them). */
export function initiatorOf(upload: UploadRecord): { ID: string } {
  return { ID: upload.initiatorArn.endsWith(':root') ? canonicalUserId(upload.ownerAccountId) : upload.initiatorArn };
}

/**
 * GET/HEAD ?partNumber=N: the byte range of the object's Nth part (1 for a single-part object).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
 */
export function partRange(v: ObjectVersionRecord, value: string): { start: number; end: number } | undefined {
  const n = partNumberOf(value);
  if (n > v.parts.length) throw new AwsError(S3Errors.InvalidPartNumber, 'The requested partnumber is not satisfiable');
  let start = 0;
  for (const p of v.parts.slice(0, n - 1)) start += p.size;
  const size = v.parts[n - 1]!.size;
  return size === 0 ? undefined : { start, end: start + size - 1 };
}
