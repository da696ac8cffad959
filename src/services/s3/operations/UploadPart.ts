import { S3Errors } from '../../../core/errors/s3.js';
import { needs } from '../../../core/errors/aws-error.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needUpload, openUploadKey, partNumberOf, storePart } from '../multipart.js';
import { partChecksumHeaders, partChecksumTaps } from '../multipart-checksums.js';
import { contentMd5Tap } from '../object-writes.js';
import { resolveObject } from '../resources.js';
import { sseResponseHeaders } from '../sse-headers.js';

/**
 * PUT /{Bucket}/{Key+}?partNumber=N&uploadId=U: https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
 * The part is sealed under a key derived from the upload's object key (opened as the caller: SSE-C needs
 * the upload's customer key again, SSE-KMS a kms:Decrypt), with Content-MD5 and flexible checksums
 * verified before it is recorded. A part of the same number is replaced. Needs s3:PutObject.
 */
export const UploadPart = defineOperation<S3Call, S3Input, { bucket: BucketRecord; key: string }, S3Access>({
  name: 'UploadPart',
  action: 's3:PutObject',
  readOnly: false,
  async resolve(input, call) {
    return resolveObject(call, input, 's3:PutObject');
  },
  async handle(input, call, { bucket, key }) {
    const h = input.headers;
    const partNumber = partNumberOf(input.query.get('partNumber'));
    const upload = await needUpload(call, bucket.name, key, input.query.get('uploadId'));
    needs(input.body.length !== undefined, S3Errors.MissingContentLength, 'You must provide the Content-Length HTTP header.');
    const md5 = contentMd5Tap(h);
    const checksums = partChecksumTaps(h, upload, false, input.body);
    const objectKey = await openUploadKey(call, input, bucket, upload);
    try {
      const part = await storePart(call, upload, partNumber, input.body.stream(), objectKey, [...(md5 ? [md5] : []), ...checksums.taps], () => checksums.result());
      return { headers: { etag: `"${part.etag}"`, ...sseResponseHeaders(upload.encryption), ...partChecksumHeaders(part) } };
    } finally {
      objectKey.fill(0);
    }
  },
});
