import { BucketRecord, UploadRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { encoder } from '../listing.js';
import { MAX_LIST, initiatorOf, integerParam } from '../multipart.js';
import { needBucket, onBucket, owner } from '../resources.js';
import { xmlDocument, xmlTime } from '../xml.js';

interface Page {
  readonly uploads: UploadRecord[];
  readonly prefixes: string[];
  readonly truncated: boolean;
  readonly last: { key: string; uploadId?: string } | undefined;
}

/**
 * GET /{Bucket}?uploads: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
 * Uploads in progress by key (UTF-8 byte order), the uploads of one key oldest first; after key-marker
 * (and, for that key, after upload-id-marker); common prefixes rolled up at the delimiter and counted
 * with the uploads against max-uploads (≤ 1,000). Needs s3:ListBucketMultipartUploads.
 */
export const ListMultipartUploads = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'ListMultipartUploads',
  action: 's3:ListBucketMultipartUploads',
  readOnly: true,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [onBucket(bucket, 's3:ListBucketMultipartUploads')], state: bucket };
  },
  async handle(input, call, bucket) {
    const q = input.query;
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const keyMarker = q.get('key-marker') ?? '';
    // upload-id-marker means nothing without key-marker (S3 ignores it then).
    const uploadIdMarker = keyMarker === '' ? '' : (q.get('upload-id-marker') ?? '');
    const maxUploads = Math.min(integerParam(q.get('max-uploads'), 'max-uploads', MAX_LIST), MAX_LIST);
    const enc = encoder(q.get('encoding-type'));
    const page = await listUploads(call, bucket.name, prefix, delimiter, keyMarker, uploadIdMarker, maxUploads);
    return {
      xml: xmlDocument('ListMultipartUploadsResult', {
        Bucket: bucket.name,
        KeyMarker: enc(keyMarker),
        UploadIdMarker: uploadIdMarker,
        ...(page.truncated && page.last ? { NextKeyMarker: enc(page.last.key), NextUploadIdMarker: page.last.uploadId ?? '' } : {}),
        Prefix: enc(prefix),
        ...(delimiter !== '' ? { Delimiter: enc(delimiter) } : {}),
        MaxUploads: maxUploads,
        ...(q.get('encoding-type') !== null ? { EncodingType: 'url' } : {}),
        IsTruncated: page.truncated,
        Upload: page.uploads.map((u) => ({
          UploadId: u.uploadId,
          Key: enc(u.key),
          Initiated: xmlTime(u.initiated),
          StorageClass: 'STANDARD',
          Owner: owner(u.ownerAccountId),
          Initiator: initiatorOf(u),
          ...(u.checksumAlgorithm ? { ChecksumAlgorithm: u.checksumAlgorithm, ChecksumType: u.checksumType ?? 'COMPOSITE' } : {}),
        })),
        CommonPrefixes: page.prefixes.map((p) => ({ Prefix: enc(p) })),
      }),
    };
  },
});

/** One page of uploads, with common prefixes rolled up as bucket listings do (listing.ts). */
async function listUploads(call: S3Call, bucket: string, prefix: string, delimiter: string, keyMarker: string, uploadIdMarker: string, max: number): Promise<Page> {
  const uploads: UploadRecord[] = [];
  const prefixes: string[] = [];
  let last: Page['last'];
  let cursor = { key: keyMarker, uploadId: uploadIdMarker };
  if (max === 0) return { uploads, prefixes, truncated: false, last };
  for (;;) {
    const batch = await call.deps.store.listUploads(bucket, prefix, cursor.key, cursor.uploadId, MAX_LIST + 1);
    if (batch.length === 0) return { uploads, prefixes, truncated: false, last };
    for (const u of batch) {
      cursor = { key: u.key, uploadId: u.uploadId };
      let entry: string | undefined;
      if (delimiter !== '') {
        const i = u.key.indexOf(delimiter, prefix.length);
        if (i >= 0) entry = u.key.slice(0, i + delimiter.length);
      }
      if (entry !== undefined && keyMarker.startsWith(entry)) continue;
      if (uploads.length + prefixes.length === max) return { uploads, prefixes, truncated: true, last };
      if (entry !== undefined) {
        prefixes.push(entry);
        last = { key: entry };
        // Continue after every key under this prefix.
        cursor = { key: entry + '\u{10FFFF}', uploadId: '' };
        break;
      }
      uploads.push(u);
      last = { key: u.key, uploadId: u.uploadId };
    }
  }
}
