import { IncomingHttpHeaders } from 'node:http';
import { BodyTap } from '../../../core/s3/bodies.js';
import { AwsError, needs } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { objectArn } from '../../../core/s3/names.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { storedHeadersOf, userMetadataOf } from '../object-headers.js';
import { putObject } from '../object-writes.js';
import { checkPostPolicy } from '../post-policy.js';
import { needBucket, onObject } from '../resources.js';
import { checkObjectKey } from '../../../core/s3/names.js';
import { effectiveSse, sseConditions, sseResponseHeaders } from '../sse-headers.js';
import { xmlDocument } from '../xml.js';

interface State {
  bucket: BucketRecord;
  key: string;
  headers: IncomingHttpHeaders;
  range: { min: number; max: number };
}

/**
 * POST /{Bucket} with multipart/form-data: a browser upload authorized by a signed POST policy
 * (the protocol checked the signature; the policy's conditions are checked here), with the same SSE
 * fields as PUT. https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 */
export const PostObject = defineOperation<S3Call, S3Input, State, S3Access>({
  name: 'PostObject',
  action: 's3:PutObject',
  readOnly: false,
  async resolve(input, call) {
    const form = input.form;
    if (!form) throw new AwsError(S3Errors.MalformedPOSTRequest, 'The body of your POST request is not well-formed multipart/form-data.');
    const bucket = await needBucket(call, input);
    const rawKey = form.get('key');
    needs(rawKey !== undefined && rawKey !== '', S3Errors.InvalidArgument, "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.");
    const key = rawKey.replaceAll('${filename}', input.filename ?? '');
    checkObjectKey(key);
    const range = checkPostPolicy(form.get('policy') ?? '', form, bucket.name, call.deps.clock.now());
    // Form fields stand for the request headers a PUT would carry (Content-Type, x-amz-meta-*, SSE).
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of form) if (name.startsWith('x-amz-') || name.startsWith('content-') || name === 'cache-control' || name === 'expires') headers[name] = value;
    return { access: [onObject(bucket, key, 's3:PutObject', sseConditions(headers))], state: { bucket, key, headers, range } };
  },
  async handle(input, call, { bucket, key, headers, range }) {
    const sse = effectiveSse(headers, call.request.secureTransport, bucket.encryption);
    const version = await putObject(call, { bucket, key, sse, headers: storedHeadersOf(headers), metadata: userMetadataOf(headers), taps: [lengthRange(range.min, range.max)] }, input.body.stream());
    const form = input.form!;
    const etag = `"${version.etag}"`;
    const out = { etag, location: `/${bucket.name}/${encodeURIComponent(key)}`, ...sseResponseHeaders(version.encryption), ...(version.versionId !== 'null' ? { 'x-amz-version-id': version.versionId } : {}) };
    const redirect = form.get('success_action_redirect') ?? form.get('redirect');
    if (redirect !== undefined && /^https?:\/\//.test(redirect)) {
      const url = new URL(redirect);
      url.searchParams.set('bucket', bucket.name);
      url.searchParams.set('key', key);
      url.searchParams.set('etag', etag);
      return { status: 303, headers: { ...out, location: url.toString() } };
    }
    const status = form.get('success_action_status');
    if (status === '201') {
      return { status: 201, headers: out, xml: xmlDocument('PostResponse', { Location: `${objectArn(bucket.name, key).replace('arn:aws:s3:::', '/')}`, Bucket: bucket.name, Key: key, ETag: etag }, false) };
    }
    return { status: status === '200' ? 200 : 204, headers: out };
  },
});

/** The policy's content-length-range: too large fails as soon as it is, too small at the end. */
function lengthRange(min: number, max: number): BodyTap {
  let bytes = 0;
  return {
    update(chunk) {
      bytes += chunk.length;
      if (bytes > max) throw new AwsError(S3Errors.EntityTooLarge, 'Your proposed upload exceeds the maximum allowed size');
    },
    verify() {
      if (bytes < min) throw new AwsError(S3Errors.EntityTooSmall, 'Your proposed upload is smaller than the minimum allowed size');
    },
  };
}
