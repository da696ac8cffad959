import { AwsError } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { contentEntry, encoder, listPage, listingAccess, maxKeysOf } from '../listing.js';
import { needBucket } from '../resources.js';
import { xmlDocument } from '../xml.js';

/** GET /{Bucket}?list-type=2: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html */
export const ListObjectsV2 = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'ListObjectsV2',
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
    const maxKeys = maxKeysOf(q.get('max-keys'));
    const token = q.get('continuation-token');
    const startAfter = q.get('start-after') ?? '';
    let after = startAfter;
    if (token !== null) {
      const decoded = Buffer.from(token, 'base64url').toString('utf8');
      if (token === '' || !decoded.startsWith('1:')) throw new AwsError(S3Errors.InvalidArgument, 'The continuation token provided is incorrect');
      after = decoded.slice(2);
    }
    const enc = encoder(q.get('encoding-type'));
    const page = await listPage(call, bucket.name, prefix, delimiter, after, maxKeys);
    return {
      xml: xmlDocument('ListBucketResult', {
        Name: bucket.name,
        Prefix: enc(prefix),
        ...(delimiter !== '' ? { Delimiter: enc(delimiter) } : {}),
        MaxKeys: maxKeys,
        ...(q.get('encoding-type') !== null ? { EncodingType: 'url' } : {}),
        KeyCount: page.contents.length + page.prefixes.length,
        ...(token !== null ? { ContinuationToken: token } : {}),
        ...(page.truncated && page.last !== undefined ? { NextContinuationToken: Buffer.from(`1:${page.last}`).toString('base64url') } : {}),
        ...(startAfter !== '' ? { StartAfter: enc(startAfter) } : {}),
        IsTruncated: page.truncated,
        Contents: page.contents.map((v) => contentEntry(v, enc, q.get('fetch-owner') === 'true')),
        CommonPrefixes: page.prefixes.map((p) => ({ Prefix: enc(p) })),
      }),
    };
  },
});
