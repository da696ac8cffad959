import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { MAX_LIST, initiatorOf, integerParam, needUpload } from '../multipart.js';
import { partChecksumElements } from '../multipart-checksums.js';
import { owner, resolveObject } from '../resources.js';
import { xmlDocument, xmlTime } from '../xml.js';

/**
 * GET /{Bucket}/{Key+}?uploadId=U: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
 * The upload's parts by part number, after part-number-marker, at most max-parts (≤ 1,000) per page.
 * Needs s3:ListMultipartUploadParts.
 */
export const ListParts = defineOperation<S3Call, S3Input, { bucket: BucketRecord; key: string }, S3Access>({
  name: 'ListParts',
  action: 's3:ListMultipartUploadParts',
  readOnly: true,
  async resolve(input, call) {
    return resolveObject(call, input, 's3:ListMultipartUploadParts');
  },
  async handle(input, call, { bucket, key }) {
    const q = input.query;
    const upload = await needUpload(call, bucket.name, key, q.get('uploadId'));
    const maxParts = Math.min(integerParam(q.get('max-parts'), 'max-parts', MAX_LIST), MAX_LIST);
    const marker = integerParam(q.get('part-number-marker'), 'part-number-marker', 0);
    const found = maxParts === 0 ? [] : await call.deps.store.listParts(upload.uploadId, marker, maxParts + 1);
    const page = found.slice(0, maxParts);
    const truncated = found.length > maxParts;
    const last = page[page.length - 1];
    return {
      xml: xmlDocument('ListPartsResult', {
        Bucket: bucket.name,
        Key: key,
        UploadId: upload.uploadId,
        PartNumberMarker: marker,
        ...(last ? { NextPartNumberMarker: last.partNumber } : {}),
        MaxParts: maxParts,
        IsTruncated: truncated,
        Part: page.map((p) => ({
          PartNumber: p.partNumber,
          LastModified: xmlTime(p.lastModified ?? upload.initiated),
          ETag: `"${p.etag}"`,
          Size: p.size,
          ...partChecksumElements(p),
        })),
        Initiator: initiatorOf(upload),
        Owner: owner(upload.ownerAccountId),
        StorageClass: 'STANDARD',
        ...(upload.checksumAlgorithm ? { ChecksumAlgorithm: upload.checksumAlgorithm, ChecksumType: upload.checksumType ?? 'COMPOSITE' } : {}),
      }),
    };
  },
});
