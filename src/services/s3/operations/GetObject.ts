import { needs } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { readObject } from '../../../core/s3/bodies.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { checksumOf } from '../checksum-headers.js';
import { checkPreconditions, objectResponseHeaders, parseRange } from '../object-headers.js';
import { partRange } from '../multipart.js';
import { checkReadKey, findVersion, openObjectKey } from '../object-reads.js';
import { resolveObject } from '../resources.js';
import { refuseSseChoiceOnRead } from '../sse-headers.js';

/** Query parameters that override response headers (presigned URLs use them). */
const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/**
 * GET and HEAD /{Bucket}/{Key+}: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 * The object's key is opened (KMS Decrypt as the caller, or the SSE-C key the request carries) before
 * anything is sent; a Range decrypts only the packages it touches. Headers that choose an encryption
 * (x-amz-server-side-encryption, its KMS key, context, bucket key) are refused: an object is read as stored.
 */
function objectRead(name: 'GetObject' | 'HeadObject') {
  return defineOperation<S3Call, S3Input, { bucket: BucketRecord; key: string }, S3Access>({
    name,
    action: 's3:GetObject',
    readOnly: true,
    async resolve(input, call) {
      refuseSseChoiceOnRead(input.headers);
      const action = input.query.has('versionId') ? 's3:GetObjectVersion' : 's3:GetObject';
      return resolveObject(call, input, action);
    },
    async handle(input, call, { bucket, key }) {
      const v = await findVersion(call, bucket, key, input.query.get('versionId'));
      checkPreconditions(v, input.headers);
      if (name === 'HeadObject') checkReadKey(call, input, v);
      const objectKey = name === 'GetObject' ? await openObjectKey(call, input, bucket, v) : undefined;
      // The object key (for SSE-KMS, the data key KMS handed over) is wiped when the body closes, or now
      // if the request fails before there is a body.
      try {
        const partNumber = input.query.get('partNumber');
        needs(partNumber === null || input.headers.range === undefined, S3Errors.InvalidRequest, 'Cannot specify both Range header and partNumber query parameter');
        // ?partNumber=N reads the object's Nth part (206 with its Content-Range), as S3 does for multipart objects.
        const range = partNumber !== null
          ? partRange(v, partNumber)
          : parseRange(typeof input.headers.range === 'string' ? input.headers.range : undefined, v.size);
        const headers: Record<string, string> = { ...objectResponseHeaders(v, bucket.versioning !== null) };
        if (input.headers['x-amz-checksum-mode'] === 'ENABLED' && !range) Object.assign(headers, checksumOf(v));
        for (const [param, header] of Object.entries(OVERRIDES)) {
          const value = input.query.get(param);
          if (value !== null) headers[header] = value;
        }
        const length = range ? range.end - range.start + 1 : v.size;
        if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${v.size}`;
        // The part count is answered only to a request that names a part (API_GetObject, x-amz-mp-parts-count).
        if (partNumber !== null) headers['x-amz-mp-parts-count'] = String(v.parts.length);
        if (!objectKey) return { status: range ? 206 : 200, headers, length };
        const body = readObject(call.deps.blobs, v.parts, objectKey, { bucket: bucket.name, key }, range);
        body.once('close', () => objectKey.fill(0));
        return { status: range ? 206 : 200, headers, body, length };
      } catch (err) {
        objectKey?.fill(0);
        throw err;
      }
    },
  });
}

export const GetObject = objectRead('GetObject');
export const HeadObject = objectRead('HeadObject');
