import { IncomingHttpHeaders } from 'node:http';
import { needs } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { readObject } from '../../../core/s3/bodies.js';
import { ChecksumAlgorithm, createChecksum, toChecksumAlgorithm } from '../../../core/s3/checksums.js';
import { BucketRecord, ObjectChecksum } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { CopyObjectSource, checkCopySourceConditions, findCopyObjectSource, parseCopyObjectSource } from '../copy-object-source.js';
import { storedHeadersOf, userMetadataOf } from '../object-headers.js';
import { openObjectKey } from '../object-reads.js';
import { putObject } from '../object-writes.js';
import { findBucket, needBucket, needKey, onObject } from '../resources.js';
import { SSE, SSE_BUCKET_KEY, SSE_CONTEXT, SSE_C_ALGORITHM, SSE_KMS_KEY_ID, effectiveSse, sseConditions, sseResponseHeaders } from '../sse-headers.js';
import { conditionalReadAccess, conditionalWriteKeys, precheckWrite, writeConditionOf } from '../write-conditions.js';
import { xmlDocument, xmlTime } from '../xml.js';

const WEBSITE_REDIRECT = 'x-amz-website-redirect-location';
/** Request headers that set the destination's encryption: a copy in place that sends one changes the object. */
const ENCRYPTION_HEADERS = [SSE, SSE_KMS_KEY_ID, SSE_CONTEXT, SSE_BUCKET_KEY, SSE_C_ALGORITHM];

interface State {
  readonly bucket: BucketRecord;
  readonly key: string;
  readonly sourceBucket: BucketRecord;
  readonly source: CopyObjectSource;
  readonly replace: boolean;
}

/**
 * PUT /{Bucket}/{Key+} with x-amz-copy-source: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
 * Reads the source (s3:GetObject, or s3:GetObjectVersion when the source names a version; an SSE-C source
 * opens only with the x-amz-copy-source-server-side-encryption-customer-* key) and writes a new object
 * (s3:PutObject) under a fresh object key: the encryption the request's headers ask for, else the
 * destination bucket's default — never the source's. Metadata comes from the source (COPY, the default)
 * or from the request (REPLACE); the website redirect location is never copied. A copy onto itself must
 * change something (REPLACE metadata, encryption, storage class or redirect location). At most 5 GiB.
 */
export const CopyObject = defineOperation<S3Call, S3Input, State, S3Access>({
  name: 'CopyObject',
  action: 's3:PutObject',
  readOnly: false,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    const key = needKey(input);
    const h = input.headers;
    const source = parseCopyObjectSource(h['x-amz-copy-source']);
    const directive = one(h['x-amz-metadata-directive']);
    needs(directive === undefined || directive === 'COPY' || directive === 'REPLACE', S3Errors.InvalidArgument, 'Unknown metadata directive.');
    // The source may be in another Region (a cross-Region copy); it is read with that Region's keys.
    const sourceBucket = source.bucket === bucket.name ? bucket : await findBucket(call, source.bucket);
    const conditions = {
      ...sseConditions(h),
      's3:x-amz-copy-source': `${source.bucket}/${source.key}`,
      ...(directive !== undefined ? { 's3:x-amz-metadata-directive': directive } : {}),
      ...conditionalWriteKeys(h),
    };
    return {
      access: [
        onObject(sourceBucket, source.key, source.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject'),
        onObject(bucket, key, 's3:PutObject', conditions),
        ...conditionalReadAccess(h, bucket, key),
      ],
      state: { bucket, key, sourceBucket, source, replace: directive === 'REPLACE' },
    };
  },
  async handle(input, call, { bucket, key, sourceBucket, source, replace }) {
    const h = input.headers;
    const v = await findCopyObjectSource(call, sourceBucket, source);
    checkCopySourceConditions(v, h);
    const inPlace = sourceBucket.name === bucket.name && source.key === key && v.isLatest;
    const changes = replace || ENCRYPTION_HEADERS.some((n) => h[n] !== undefined) || h['x-amz-storage-class'] !== undefined || h[WEBSITE_REDIRECT] !== undefined;
    needs(
      !inPlace || changes,
      S3Errors.InvalidRequest,
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
    const sse = effectiveSse(h, call.request.secureTransport, bucket.encryption);
    const algorithm = checksumAlgorithmOf(h, v.checksum);
    const headers = replace ? storedHeadersOf(h) : copiedHeaders(v.headers, h);
    const metadata = replace ? userMetadataOf(h) : v.metadata;

    const condition = writeConditionOf(h);
    await precheckWrite(call, bucket, key, condition);
    const objectKey = await openObjectKey(call, input, sourceBucket, v, true);
    const hasher = algorithm ? createChecksum(algorithm) : undefined;
    let checksum: ObjectChecksum | undefined;
    const taps = hasher ? [{ update: (c: Buffer) => hasher.update(c), verify: () => void (checksum = { algorithm: hasher.algorithm, value: hasher.digest(), type: 'FULL_OBJECT' }) }] : [];
    let version;
    try {
      const body = readObject(call.deps.blobs, v.parts, objectKey, { bucket: sourceBucket.name, key: source.key });
      version = await putObject(call, { bucket, key, sse, headers, metadata, taps, checksum: () => checksum, ...(condition ? { condition } : {}) }, body);
    } finally {
      objectKey.fill(0);
    }
    const sourceVersioned = sourceBucket.versioning !== null || v.versionId !== 'null';
    return {
      headers: {
        ...(sourceVersioned ? { 'x-amz-copy-source-version-id': v.versionId } : {}),
        ...(version.versionId !== 'null' ? { 'x-amz-version-id': version.versionId } : {}),
        ...sseResponseHeaders(version.encryption, true),
      },
      xml: xmlDocument('CopyObjectResult', {
        ETag: `"${version.etag}"`,
        LastModified: xmlTime(version.lastModified),
        ...(version.checksum ? { ChecksumType: version.checksum.type, [`Checksum${version.checksum.algorithm}`]: version.checksum.value } : {}),
      }),
    };
  },
});

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/** COPY: the source's representation headers, but the redirect location only as this request gives it. */
function copiedHeaders(source: Readonly<Record<string, string>>, h: IncomingHttpHeaders): Record<string, string> {
  const { [WEBSITE_REDIRECT]: _old, ...rest } = source;
  const redirect = one(h[WEBSITE_REDIRECT]);
  return { ...rest, ...(redirect !== undefined ? { [WEBSITE_REDIRECT]: redirect } : {}) };
}

/** x-amz-checksum-algorithm asks for one; otherwise the copy keeps the source's algorithm (recomputed over the whole object). */
function checksumAlgorithmOf(h: IncomingHttpHeaders, source: ObjectChecksum | undefined): ChecksumAlgorithm | undefined {
  const asked = one(h['x-amz-checksum-algorithm']);
  if (asked !== undefined) {
    const algorithm = toChecksumAlgorithm(asked);
    needs(algorithm !== undefined, S3Errors.InvalidRequest, 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, MD5, SHA1, SHA256, SHA512, XXHASH128, XXHASH3, XXHASH64]');
    return algorithm;
  }
  return source ? toChecksumAlgorithm(source.algorithm) : undefined;
}
