import { readObject } from '../../../core/s3/bodies.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needUpload, openUploadKey, partNumberOf, storePart } from '../multipart.js';
import { partChecksumElements, partChecksumTaps } from '../multipart-checksums.js';
import { CopyObjectSource, checkCopySourceConditions, parseCopyObjectSource } from '../copy-object-source.js';
import { openObjectKey } from '../object-reads.js';
import { findBucket, needBucket, needKey, onObject } from '../resources.js';
import { sseResponseHeaders } from '../sse-headers.js';
import { copySourceRange, findPartCopySource } from '../upload-copy-source.js';
import { xmlDocument, xmlTime } from '../xml.js';

interface State {
  readonly bucket: BucketRecord;
  readonly key: string;
  readonly source: CopyObjectSource;
  readonly sourceBucket: BucketRecord;
}

/**
 * PUT /{Bucket}/{Key+}?partNumber=N&uploadId=U with x-amz-copy-source:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
 * The source (or x-amz-copy-source-range of it) is opened as the caller (its SSE-C key in the
 * x-amz-copy-source-server-side-encryption-customer-* headers, its KMS key by kms:Decrypt) and re-sealed
 * as a part of the upload, under the upload's encryption. Needs s3:PutObject on the destination and
 * s3:GetObject (s3:GetObjectVersion with a versionId) on the source.
 */
export const UploadPartCopy = defineOperation<S3Call, S3Input, State, S3Access>({
  name: 'UploadPartCopy',
  action: 's3:PutObject',
  readOnly: false,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    const key = needKey(input);
    const source = parseCopyObjectSource(input.headers['x-amz-copy-source']);
    // The source may be in another Region; it is read with that Region's keys.
    const sourceBucket = await findBucket(call, source.bucket);
    const read = source.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject';
    return {
      access: [onObject(bucket, key, 's3:PutObject'), onObject(sourceBucket, source.key, read)],
      state: { bucket, key, source, sourceBucket },
    };
  },
  async handle(input, call, { bucket, key, source, sourceBucket }) {
    const h = input.headers;
    const partNumber = partNumberOf(input.query.get('partNumber'));
    const upload = await needUpload(call, bucket.name, key, input.query.get('uploadId'));
    const v = await findPartCopySource(call, sourceBucket, source, h);
    checkCopySourceConditions(v, h);
    const range = copySourceRange(h, v.size);
    const checksums = partChecksumTaps(h, upload, true);
    const sourceKey = await openObjectKey(call, input, sourceBucket, v, true);
    let objectKey: Buffer | undefined;
    try {
      objectKey = await openUploadKey(call, input, bucket, upload);
      const body = readObject(call.deps.blobs, v.parts, sourceKey, { bucket: v.bucket, key: v.key }, range);
      const part = await storePart(call, upload, partNumber, body, objectKey, checksums.taps, () => checksums.result());
      return {
        headers: {
          ...sseResponseHeaders(upload.encryption),
          ...(v.versionId !== 'null' ? { 'x-amz-copy-source-version-id': v.versionId } : {}),
        },
        xml: xmlDocument('CopyPartResult', { ETag: `"${part.etag}"`, LastModified: xmlTime(part.lastModified ?? call.deps.clock.now()), ...partChecksumElements(part) }),
      };
    } finally {
      sourceKey.fill(0);
      objectKey?.fill(0);
    }
  },
});
