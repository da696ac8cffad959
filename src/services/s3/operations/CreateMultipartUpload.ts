import { BucketRecord, UploadRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { newUploadId } from '../multipart.js';
import { uploadChecksumHeaders, uploadChecksumOf } from '../multipart-checksums.js';
import { storedHeadersOf, userMetadataOf } from '../object-headers.js';
import { resolveObject } from '../resources.js';
import { effectiveSse, sseConditions, sseResponseHeaders } from '../sse-headers.js';
import { xmlDocument } from '../xml.js';

/**
 * POST /{Bucket}/{Key+}?uploads: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
 * The object's encryption is decided here, once for every part: the request's SSE headers, else the
 * bucket default, else SSE-S3. The object key is created now (SSE-KMS: GenerateDataKey as the caller) and
 * only its sealed form is kept with the upload; each part's key is derived from it. Needs s3:PutObject.
 */
export const CreateMultipartUpload = defineOperation<S3Call, S3Input, { bucket: BucketRecord; key: string }, S3Access>({
  name: 'CreateMultipartUpload',
  action: 's3:PutObject',
  readOnly: false,
  async resolve(input, call) {
    return resolveObject(call, input, 's3:PutObject', sseConditions(input.headers));
  },
  async handle(input, call, { bucket, key }) {
    const h = input.headers;
    const sse = effectiveSse(h, call.request.secureTransport, bucket.encryption);
    const checksum = uploadChecksumOf(h);
    const headers = storedHeadersOf(h);
    const metadata = userMetadataOf(h);
    const { objectKey, encryption } = await call.deps.keys.create(sse, { bucket: bucket.name, key }, call.kmsFor(bucket));
    objectKey.fill(0);
    const now = call.deps.clock.now();
    const upload: UploadRecord = {
      uploadId: newUploadId(now),
      bucket: bucket.name,
      key,
      initiated: now,
      ownerAccountId: call.request.principal.accountId,
      initiatorArn: call.request.principal.arn,
      headers,
      metadata,
      ...(checksum ? { checksumAlgorithm: checksum.algorithm, checksumType: checksum.type } : {}),
      encryption,
    };
    await call.deps.store.createUpload(upload);
    return {
      headers: { ...sseResponseHeaders(encryption, true), ...uploadChecksumHeaders(upload) },
      xml: xmlDocument('InitiateMultipartUploadResult', { Bucket: bucket.name, Key: key, UploadId: upload.uploadId }),
    };
  },
});
