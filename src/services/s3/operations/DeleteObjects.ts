import { AwsError, needs } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { parseChecksumHeaders } from '../../../core/s3/checksums.js';
import { checkObjectKey } from '../../../core/s3/names.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { checksumTaps } from '../checksum-headers.js';
import { deleteObject } from '../object-deletes.js';
import { contentMd5Tap } from '../object-writes.js';
import { needBucket, onObject } from '../resources.js';
import { XmlValue, malformed, parseXmlDocument, xmlOrderedDocument } from '../xml.js';

/** At most 1,000 keys per request. */
const MAX_OBJECTS = 1000;
/** 1,000 keys of 1,024 bytes, escaped, with version ids and markup, fit well within this. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

interface Target {
  readonly key: string;
  readonly versionId: string | undefined;
}

/**
 * POST /{Bucket}?delete: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
 * Each key is deleted as DeleteObject would (a delete marker, a null version, or the named version), and
 * each is authorized on its own — s3:DeleteObject, or s3:DeleteObjectVersion when it names a version —
 * so a key the caller may not delete is an AccessDenied <Error> entry while the others go. That is why
 * `resolve` returns no access of its own: the handler asks call.authorize per key, before touching it.
 * The body must come with Content-MD5 or an x-amz-checksum-* (the model marks it requestChecksumRequired),
 * and is checked against it before anything is deleted. Quiet mode answers only the errors.
 */
export const DeleteObjects = defineOperation<S3Call, S3Input, { bucket: BucketRecord; targets: Target[]; quiet: boolean }, S3Access>({
  name: 'DeleteObjects',
  action: 's3:DeleteObject',
  readOnly: false,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    const h = input.headers;
    const md5 = contentMd5Tap(h);
    const checksum = checksumTaps(h);
    needs(md5 !== undefined || parseChecksumHeaders(h) !== undefined, S3Errors.InvalidRequest, 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
    const body = await input.body.bytes(MAX_BODY_BYTES);
    for (const tap of [...(md5 ? [md5] : []), ...checksum.taps]) {
      tap.update(body);
      tap.verify();
    }
    const { targets, quiet } = parseDelete(body);
    return { access: [], state: { bucket, targets, quiet } };
  },
  async handle(_input, call, { bucket, targets, quiet }) {
    const results: [string, XmlValue][] = [];
    for (const t of targets) {
      const versionId = t.versionId !== undefined ? { VersionId: t.versionId } : {};
      try {
        checkObjectKey(t.key);
        await call.authorize(onObject(bucket, t.key, t.versionId !== undefined ? 's3:DeleteObjectVersion' : 's3:DeleteObject'));
        const out = await deleteObject(call, bucket, t.key, t.versionId);
        if (quiet) continue;
        const marker = out.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: out.versionId } : {};
        results.push(['Deleted', { Key: t.key, ...versionId, ...marker }]);
      } catch (err) {
        const e = err instanceof AwsError ? err : new AwsError(S3Errors.InternalError, 'We encountered an internal error. Please try again.');
        results.push(['Error', { Key: t.key, ...versionId, Code: e.code, Message: e.message }]);
      }
    }
    return { xml: xmlOrderedDocument('DeleteResult', results) };
  },
});

/** <Delete><Object><Key/><VersionId/></Object>…<Quiet/></Delete>: 1 to 1,000 objects, each with a Key. */
function parseDelete(body: Buffer): { targets: Target[]; quiet: boolean } {
  const doc = parseXmlDocument(body, 'Delete');
  const objects = doc.Object;
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_OBJECTS) throw malformed();
  const targets = objects.map((o): Target => {
    if (o === null || typeof o !== 'object') throw malformed();
    const { Key: key, VersionId: versionId } = o as Record<string, unknown>;
    if (typeof key !== 'string' || (versionId !== undefined && typeof versionId !== 'string')) throw malformed();
    return { key, versionId: versionId === '' ? undefined : versionId };
  });
  const quiet = doc.Quiet === undefined ? 'false' : doc.Quiet;
  if (typeof quiet !== 'string' || !['true', 'false'].includes(quiet.trim().toLowerCase())) throw malformed();
  return { targets, quiet: quiet.trim().toLowerCase() === 'true' };
}
