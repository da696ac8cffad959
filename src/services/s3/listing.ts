import { AwsError, needs } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { BucketRecord, ObjectVersionRecord } from '../../store/metadata/s3-types.js';
import { S3Access, S3Call } from './call.js';
import { onBucket, owner } from './resources.js';
import { XmlValue, xmlTime } from './xml.js';

export const MAX_KEYS = 1000;

/** s3:ListBucket (or s3:ListBucketVersions) on the bucket, with the listing's condition keys. */
export function listingAccess(bucket: BucketRecord, action: string, q: URLSearchParams): S3Access {
  return onBucket(bucket, action, { 's3:prefix': q.get('prefix') ?? '', 's3:delimiter': q.get('delimiter') ?? undefined, 's3:max-keys': q.get('max-keys') ?? undefined });
}

export interface ListPage {
  readonly contents: ObjectVersionRecord[];
  readonly prefixes: string[];
  readonly truncated: boolean;
  /** The last key or common prefix returned (where the next page starts after). */
  readonly last: string | undefined;
}

/**
 * One page of a bucket listing: latest versions with `prefix`, after `after`, common prefixes rolled up
 * at `delimiter`; at most `maxKeys` entries (keys and prefixes together), as S3 counts them.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-prefixes.html
 */
export async function listPage(call: S3Call, bucket: string, prefix: string, delimiter: string, after: string, maxKeys: number): Promise<ListPage> {
  const contents: ObjectVersionRecord[] = [];
  const prefixes: string[] = [];
  let cursor = after;
  let last: string | undefined;
  if (maxKeys === 0) return { contents, prefixes, truncated: false, last };
  for (;;) {
    const batch = await call.deps.store.listLatest(bucket, { prefix, after: cursor, limit: Math.min(1000, maxKeys + 1) });
    if (batch.length === 0) return { contents, prefixes, truncated: false, last };
    for (const v of batch) {
      cursor = v.key;
      let entry: string | undefined;
      if (delimiter !== '') {
        const i = v.key.indexOf(delimiter, prefix.length);
        if (i >= 0) entry = v.key.slice(0, i + delimiter.length);
      }
      if (entry !== undefined && entry === prefixes[prefixes.length - 1]) continue;
      if (entry !== undefined && after.startsWith(entry) && after.length >= entry.length) continue;
      if (contents.length + prefixes.length === maxKeys) return { contents, prefixes, truncated: true, last };
      if (entry !== undefined) {
        prefixes.push(entry);
        last = entry;
        // Skip the rest of this prefix: continue after its last possible key.
        cursor = entry + '\u{10FFFF}';
      } else {
        contents.push(v);
        last = v.key;
      }
    }
  }
}

/** encoding-type=url: keys and prefixes URL-encoded in the answer. */
export function encoder(encodingType: string | null): (s: string) => string {
  if (encodingType === null) return (s) => s;
  needs(encodingType === 'url', S3Errors.InvalidArgument, 'Invalid Encoding Method specified in Request');
  return (s) => encodeURIComponent(s).replace(/%2F/g, '/');
}

export function maxKeysOf(value: string | null): number {
  if (value === null) return MAX_KEYS;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new AwsError(S3Errors.InvalidArgument, 'Provided max-keys not an integer or within integer range');
  return Math.min(n, MAX_KEYS);
}

export function contentEntry(v: ObjectVersionRecord, enc: (s: string) => string, withOwner: boolean): Record<string, XmlValue> {
  return {
    Key: enc(v.key),
    LastModified: xmlTime(v.lastModified),
    ETag: `"${v.etag}"`,
    ...(v.checksum ? { ChecksumAlgorithm: v.checksum.algorithm, ChecksumType: v.checksum.type } : {}),
    Size: v.size,
    ...(withOwner ? { Owner: owner(v.ownerAccountId) } : {}),
    StorageClass: 'STANDARD',
  };
}
