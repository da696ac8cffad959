import { S3Errors } from '../../../core/errors/s3.js';
import { needs } from '../../../core/errors/aws-error.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { storedHeadersOf, userMetadataOf } from '../object-headers.js';
import { contentMd5Tap, putObject } from '../object-writes.js';
import { resolveObject } from '../resources.js';
import { checksumOf, checksumTaps } from '../checksum-headers.js';
import { effectiveSse, sseConditions, sseResponseHeaders } from '../sse-headers.js';
import { conditionalReadAccess, conditionalWriteKeys, precheckWrite, writeConditionOf } from '../write-conditions.js';

/**
 * PUT /{Bucket}/{Key+}: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 * Every new object is encrypted: the request's SSE headers, else the bucket default, else SSE-S3.
 * If-None-Match: * / If-Match make it a conditional write, decided atomically at commit (write-conditions.ts).
 */
export const PutObject = defineOperation<S3Call, S3Input, { bucket: BucketRecord; key: string }, S3Access>({
  name: 'PutObject',
  action: 's3:PutObject',
  readOnly: false,
  async resolve(input, call) {
    const target = await resolveObject(call, input, 's3:PutObject', { ...sseConditions(input.headers), ...conditionalWriteKeys(input.headers) });
    return { ...target, access: [...target.access, ...conditionalReadAccess(input.headers, target.state.bucket, target.state.key)] };
  },
  async handle(input, call, { bucket, key }) {
    const h = input.headers;
    needs(input.body.length !== undefined, S3Errors.MissingContentLength, 'You must provide the Content-Length HTTP header.');
    const sse = effectiveSse(h, call.request.secureTransport, bucket.encryption);
    const md5 = contentMd5Tap(h);
    const checksums = checksumTaps(h, input.body);
    const condition = writeConditionOf(h);
    await precheckWrite(call, bucket, key, condition);
    const version = await putObject(
      call,
      {
        bucket, key, sse, headers: storedHeadersOf(h), metadata: userMetadataOf(h), taps: [...(md5 ? [md5] : []), ...checksums.taps], checksum: () => checksums.result(), length: input.body.length,
        ...(condition ? { condition } : {}),
      },
      input.body.stream(),
    );
    return {
      headers: {
        etag: `"${version.etag}"`,
        ...sseResponseHeaders(version.encryption, true),
        ...(version.versionId !== 'null' ? { 'x-amz-version-id': version.versionId } : {}),
        ...checksumOf(version),
      },
    };
  },
});
