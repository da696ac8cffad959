import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { contentEntry, encoder, listPage, listingAccess, maxKeysOf } from '../listing.js';
import { needBucket } from '../resources.js';
import { xmlDocument } from '../xml.js';

/**
 * GET /{Bucket} (version 1): Marker, and NextMarker only with a delimiter, as S3 answers.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html
 */
export const ListObjects = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'ListObjects',
  action: 's3:ListBucket',
  readOnly: true,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [listingAccess(bucket, 's3:ListBucket', input.query)], state: bucket };
  },
  async handle(input, call, bucket) {
    const q = input.query;
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const marker = q.get('marker') ?? '';
    const maxKeys = maxKeysOf(q.get('max-keys'));
    const enc = encoder(q.get('encoding-type'));
    const page = await listPage(call, bucket.name, prefix, delimiter, marker, maxKeys);
    return {
      xml: xmlDocument('ListBucketResult', {
        Name: bucket.name,
        Prefix: enc(prefix),
        Marker: enc(marker),
        ...(page.truncated && delimiter !== '' && page.last !== undefined ? { NextMarker: enc(page.last) } : {}),
        MaxKeys: maxKeys,
        ...(delimiter !== '' ? { Delimiter: enc(delimiter) } : {}),
        ...(q.get('encoding-type') !== null ? { EncodingType: 'url' } : {}),
        IsTruncated: page.truncated,
        Contents: page.contents.map((v) => contentEntry(v, enc, true)),
        CommonPrefixes: page.prefixes.map((p) => ({ Prefix: enc(p) })),
      }),
    };
  },
});
