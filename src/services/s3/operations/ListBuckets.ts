import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { owner } from '../resources.js';
import { xmlDocument, xmlTime } from '../xml.js';

/**
 * GET /: the caller's account's buckets, in every Region whatever Region the request is signed for, or only
 * those of `bucket-region` (BucketRegion). https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
 */
export const ListBuckets = defineOperation<S3Call, S3Input, undefined, S3Access>({
  name: 'ListBuckets',
  action: 's3:ListAllMyBuckets',
  readOnly: true,
  async resolve() {
    return { access: [{ action: 's3:ListAllMyBuckets', resource: '*' }], state: undefined };
  },
  async handle(input, call) {
    const accountId = call.request.principal.accountId;
    const prefix = input.query.get('prefix') ?? '';
    const region = input.query.get('bucket-region');
    const buckets = (await call.deps.store.listBuckets(accountId)).filter((b) => b.name.startsWith(prefix) && (region === null || b.region === region));
    return {
      xml: xmlDocument('ListAllMyBucketsResult', {
        Owner: owner(accountId),
        Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: xmlTime(b.createdAt), BucketRegion: b.region })) },
        ...(prefix !== '' ? { Prefix: prefix } : {}),
      }),
    };
  },
});
