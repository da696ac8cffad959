import { AwsError } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needUpload, noSuchUpload } from '../multipart.js';
import { removeBlobs } from '../object-writes.js';
import { resolveObject } from '../resources.js';

/**
 * DELETE /{Bucket}/{Key+}?uploadId=U: https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
 * Ends the upload and removes every part's blob; an unknown, completed or aborted upload is NoSuchUpload.
 * x-amz-if-match-initiated-time aborts only the upload initiated at that time (412 otherwise).
 * Needs s3:AbortMultipartUpload.
 */
export const AbortMultipartUpload = defineOperation<S3Call, S3Input, { bucket: BucketRecord; key: string }, S3Access>({
  name: 'AbortMultipartUpload',
  action: 's3:AbortMultipartUpload',
  readOnly: false,
  async resolve(input, call) {
    return resolveObject(call, input, 's3:AbortMultipartUpload');
  },
  async handle(input, call, { bucket, key }) {
    const upload = await needUpload(call, bucket.name, key, input.query.get('uploadId'));
    const initiated = input.headers['x-amz-if-match-initiated-time'];
    if (typeof initiated === 'string') {
      const t = Date.parse(initiated);
      if (Number.isNaN(t) || Math.floor(t / 1000) !== Math.floor(upload.initiated / 1000)) {
        throw new AwsError(S3Errors.PreconditionFailed, 'At least one of the pre-conditions you specified did not hold');
      }
    }
    const parts = await call.deps.store.abortUpload(upload.uploadId);
    if (!parts) throw noSuchUpload();
    await removeBlobs(call, parts);
    return { status: 204 };
  },
});
