import { AwsError, needs } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { toChecksumAlgorithm } from '../../../core/s3/checksums.js';
import { ObjectKeys } from '../../../core/s3/sse.js';
import { BucketRecord, ObjectVersionRecord, StoredPart, UploadRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { MAX_PART_NUMBER, MIN_PART_BYTES, multipartEtag, needUpload, noSuchUpload, unquote } from '../multipart.js';
import { RequestedPart, completedChecksum } from '../multipart-checksums.js';
import { keepsVersions, newVersionId, removeBlobs } from '../object-writes.js';
import { resolveObject } from '../resources.js';
import { customerKeyOf, sseResponseHeaders } from '../sse-headers.js';
import { malformed, parseXmlDocument, xmlDocument } from '../xml.js';
import { committing, conditionalReadAccess, conditionalWriteKeys, precheckWrite, writeConditionOf } from '../write-conditions.js';

/** 10,000 <Part> elements with every checksum fit well within this. */
const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/**
 * POST /{Bucket}/{Key+}?uploadId=U: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 * The parts named must be in ascending order (InvalidPartOrder), uploaded with the ETags given (InvalidPart)
 * and, all but the last, at least 5 MiB (EntityTooSmall). The object is made of those parts as they are
 * stored — no byte is copied or re-encrypted — and becomes the latest version in the same transaction that
 * ends the upload; the parts it does not use are removed after. Its ETag is the MD5 of the parts' binary
 * ETags, `-<count>`. If-None-Match: * / If-Match are decided atomically at commit (write-conditions.ts).
 * Needs s3:PutObject.
 */
export const CompleteMultipartUpload = defineOperation<S3Call, S3Input, { bucket: BucketRecord; key: string }, S3Access>({
  name: 'CompleteMultipartUpload',
  action: 's3:PutObject',
  readOnly: false,
  async resolve(input, call) {
    const target = await resolveObject(call, input, 's3:PutObject', conditionalWriteKeys(input.headers));
    return { ...target, access: [...target.access, ...conditionalReadAccess(input.headers, target.state.bucket, target.state.key)] };
  },
  async handle(input, call, { bucket, key }) {
    const h = input.headers;
    const upload = await needUpload(call, bucket.name, key, input.query.get('uploadId'));
    const requested = requestedParts(await input.body.bytes(MAX_DOCUMENT_BYTES));
    checkCustomerKey(input, call, upload);
    const condition = writeConditionOf(h);
    await precheckWrite(call, bucket, key, condition);

    const stored = new Map((await call.deps.store.listParts(upload.uploadId, 0, MAX_PART_NUMBER)).map((p) => [p.partNumber, p]));
    const chosen: StoredPart[] = requested.map((r) => {
      const p = stored.get(r.partNumber);
      if (!p || p.etag !== unquote(r.etag)) throw invalidPart(upload, r);
      return p;
    });
    chosen.slice(0, -1).forEach((p, i) => {
      if (p.size < MIN_PART_BYTES) {
        throw withDetails(new AwsError(S3Errors.EntityTooSmall, 'Your proposed upload is smaller than the minimum allowed object size.'), {
          ProposedSize: String(p.size), MinSizeAllowed: String(MIN_PART_BYTES), PartNumber: String(p.partNumber), ETag: requested[i]!.etag,
        });
      }
    });
    const size = chosen.reduce((n, p) => n + p.size, 0);
    const declaredSize = one(h['x-amz-mp-object-size']);
    needs(declaredSize === undefined || declaredSize.trim() === String(size), S3Errors.InvalidRequest,
      `The provided 'x-amz-mp-object-size' header value ${String(declaredSize).slice(0, 20)} does not match what was computed: ${size}`);
    const checksum = completedChecksum(h, upload, requested, chosen, (r) => invalidPart(upload, r));

    const version: ObjectVersionRecord = {
      bucket: bucket.name,
      key,
      versionId: keepsVersions(bucket) ? newVersionId() : 'null',
      isLatest: true,
      deleteMarker: false,
      // S3 dates a multipart object from the upload's initiation, not its completion.
      lastModified: upload.initiated,
      size,
      etag: multipartEtag(chosen),
      ownerAccountId: upload.ownerAccountId,
      headers: upload.headers,
      metadata: upload.metadata,
      ...(checksum ? { checksum } : {}),
      encryption: upload.encryption,
      parts: chosen,
    };
    // The condition is decided in the commit: a failed one leaves the upload in place (AWS: retry after 412).
    const done = await committing(condition, () => call.deps.store.completeUpload(upload.uploadId, version, keepsVersions(bucket), condition));
    if (!done) throw noSuchUpload();
    for (const r of done.replaced) await removeBlobs(call, r.parts);
    await removeBlobs(call, done.unused);

    return {
      headers: {
        ...(upload.encryption.algorithm !== 'SSE-C' ? sseResponseHeaders(upload.encryption) : {}),
        ...(version.versionId !== 'null' ? { 'x-amz-version-id': version.versionId } : {}),
      },
      xml: xmlDocument('CompleteMultipartUploadResult', {
        Location: locationOf(input, call, bucket.name, key),
        Bucket: bucket.name,
        Key: key,
        ETag: `"${version.etag}"`,
        ...(checksum ? { [`Checksum${checksum.algorithm}`]: checksum.value, ChecksumType: checksum.type } : {}),
      }),
    };
  },
});

/** The <Part>s of the request document: PartNumber, ETag, Checksum<ALG>; at least one, in ascending order. */
function requestedParts(body: Buffer): RequestedPart[] {
  const doc = parseXmlDocument(body, 'CompleteMultipartUpload');
  const parts = doc.Part;
  if (!Array.isArray(parts) || parts.length === 0) throw malformed();
  needs(parts.length <= MAX_PART_NUMBER, S3Errors.InvalidArgument, 'Part number must be an integer between 1 and 10000, inclusive');
  const out = parts.map((p: unknown): RequestedPart => {
    if (p === null || typeof p !== 'object') throw malformed();
    const e = p as Record<string, unknown>;
    const n = typeof e.PartNumber === 'string' ? e.PartNumber.trim() : '';
    if (!/^\d+$/.test(n) || typeof e.ETag !== 'string') throw malformed();
    const partNumber = Number(n);
    needs(partNumber >= 1 && partNumber <= MAX_PART_NUMBER, S3Errors.InvalidArgument, 'Part number must be an integer between 1 and 10000, inclusive');
    const checksums: Record<string, string> = {};
    for (const [name, value] of Object.entries(e)) {
      const algorithm = name.startsWith('Checksum') ? toChecksumAlgorithm(name.slice('Checksum'.length)) : undefined;
      if (algorithm && typeof value === 'string') checksums[algorithm] = value;
    }
    return { partNumber, etag: e.ETag, checksums };
  });
  for (let i = 1; i < out.length; i++) {
    needs(out[i]!.partNumber > out[i - 1]!.partNumber, S3Errors.InvalidPartOrder, 'The list of parts was not in ascending order. Parts must be ordered by part number.');
  }
  return out;
}

function invalidPart(upload: UploadRecord, r: RequestedPart): AwsError {
  return withDetails(
    new AwsError(S3Errors.InvalidPart, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."),
    { UploadId: upload.uploadId, PartNumber: String(r.partNumber), ETag: r.etag },
  );
}

/** Extra elements of the <Error> document, as S3 adds them (rendered by the REST-XML protocol). */
function withDetails(err: AwsError, details: Record<string, string>): AwsError {
  return Object.assign(err, { details });
}

/** SSE-C headers are optional on completion; when sent they must be the upload's key (403 otherwise). */
function checkCustomerKey(input: S3Input, call: S3Call, upload: UploadRecord): void {
  const customer = customerKeyOf(input.headers, call.request.secureTransport);
  if (!customer) return;
  needs(upload.encryption.algorithm === 'SSE-C', S3Errors.InvalidRequest, 'The multipart upload initiate did not request encryption with customer provided keys.');
  needs(ObjectKeys.customerKeyMatches(upload.encryption, customer.key), S3Errors.AccessDenied, 'The provided encryption parameters did not match the ones used originally.');
}

/** <Location>: the object's URL as the client addressed the bucket (path or virtual-hosted style). */
function locationOf(input: S3Input, call: S3Call, bucket: string, key: string): string {
  const scheme = call.request.secureTransport ? 'https' : 'http';
  const path = key.split('/').map(encodeURIComponent).join('/');
  return input.host.startsWith(`${bucket}.`) ? `${scheme}://${input.host}/${path}` : `${scheme}://${input.host}/${bucket}/${path}`;
}
