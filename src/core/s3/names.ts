import { needs } from '../errors/aws-error.js';
import { S3Errors } from '../errors/s3.js';

/**
 * Bucket naming rules for general purpose buckets:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

export function isValidBucketName(name: string): boolean {
  return (
    BUCKET.test(name) &&
    !name.includes('..') &&
    !IPV4.test(name) &&
    !RESERVED_PREFIXES.some((p) => name.startsWith(p)) &&
    !RESERVED_SUFFIXES.some((s) => name.endsWith(s))
  );
}

export function checkBucketName(name: string): void {
  needs(isValidBucketName(name), S3Errors.InvalidBucketName, 'The specified bucket is not valid.');
}

/** S3 object keys are at most 1,024 bytes of UTF-8. https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html */
export const MAX_KEY_BYTES = 1024;

/**
 * Object keys: 1–1,024 bytes of UTF-8. A key is only ever a column in the metadata store, never part of a
 * file path (bodies live under random blob ids), so `..` and `/` are ordinary characters, as in S3.
 * NUL and the other C0 controls but tab/LF/CR cannot be written in XML 1.0, so a key holding them could
 * never be listed; they are refused.
 */
export function checkObjectKey(key: string): void {
  needs(key.length > 0, S3Errors.InvalidArgument, 'Object key must not be empty.');
  needs(Buffer.byteLength(key, 'utf8') <= MAX_KEY_BYTES, S3Errors.KeyTooLongError, 'Your key is too long');
  // eslint-disable-next-line no-control-regex
  needs(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(key) && Buffer.from(key, 'utf8').toString('utf8') === key, S3Errors.InvalidArgument, 'Object key contains characters that are not allowed.');
}

export const bucketArn = (bucket: string): string => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string): string => `arn:aws:s3:::${bucket}/${key}`;
