import { needs } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { encoder, listingAccess, maxKeysOf } from '../listing.js';
import { checkVersionId } from '../object-reads.js';
import { needBucket } from '../resources.js';
import { listVersionsPage, versionEntry } from '../version-listing.js';
import { XmlValue, xmlOrderedDocument } from '../xml.js';

/**
 * GET /{Bucket}?versions: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
 * <Version> and <DeleteMarker> entries interleaved in key order, newest first within a key; the null
 * version's id is the string "null". Pages resume at key-marker (+ version-id-marker); a version-id
 * marker needs a key marker. Needs s3:ListBucketVersions (s3:prefix, s3:delimiter, s3:max-keys).
 */
export const ListObjectVersions = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'ListObjectVersions',
  action: 's3:ListBucketVersions',
  readOnly: true,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [listingAccess(bucket, 's3:ListBucketVersions', input.query)], state: bucket };
  },
  async handle(input, call, bucket) {
    const q = input.query;
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const keyMarker = q.get('key-marker') ?? '';
    const versionIdMarker = q.get('version-id-marker') ?? '';
    const maxKeys = maxKeysOf(q.get('max-keys'));
    const enc = encoder(q.get('encoding-type'));
    if (versionIdMarker !== '') {
      needs(keyMarker !== '', S3Errors.InvalidArgument, 'A version-id marker cannot be specified without a key marker.');
      checkVersionId(versionIdMarker);
    }
    const page = await listVersionsPage(call, bucket.name, { prefix, delimiter, keyMarker, versionIdMarker, maxKeys });
    const children: (readonly [string, XmlValue])[] = [
      ['Name', bucket.name],
      ['Prefix', enc(prefix)],
      ['KeyMarker', enc(keyMarker)],
      ['VersionIdMarker', versionIdMarker],
    ];
    if (page.truncated && page.next) {
      children.push(['NextKeyMarker', enc(page.next.key)]);
      if (page.next.versionId !== undefined) children.push(['NextVersionIdMarker', page.next.versionId]);
    }
    children.push(['MaxKeys', maxKeys]);
    if (delimiter !== '') children.push(['Delimiter', enc(delimiter)]);
    if (q.get('encoding-type') !== null) children.push(['EncodingType', 'url']);
    children.push(['IsTruncated', page.truncated]);
    children.push(...page.entries.map((v) => versionEntry(v, enc)));
    children.push(...page.prefixes.map((p): readonly [string, XmlValue] => ['CommonPrefixes', { Prefix: enc(p) }]));
    return { xml: xmlOrderedDocument('ListVersionsResult', children) };
  },
});
