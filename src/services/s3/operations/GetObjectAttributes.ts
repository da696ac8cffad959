import { AwsError, needs } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { BucketRecord, ObjectVersionRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { MAX_LIST, integerParam } from '../multipart.js';
import { partChecksumElements } from '../multipart-checksums.js';
import { checkReadKey, findVersion } from '../object-reads.js';
import { onObject, resolveObject } from '../resources.js';
import { refuseSseChoiceOnRead } from '../sse-headers.js';
import { XmlValue, httpTime, xmlDocument } from '../xml.js';

/** The attributes x-amz-object-attributes may name (botocore's ObjectAttributes enum). */
const ATTRIBUTES = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/**
 * GET /{Bucket}/{Key+}?attributes: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html
 * HeadObject and ListParts in one call: the attributes x-amz-object-attributes names (ETag — unquoted here,
 * Checksum, ObjectParts, StorageClass, ObjectSize) of the latest version or of `versionId`. ObjectParts is
 * answered for multipart objects: PartsCount always, the <Part>s (paged by x-amz-max-parts and
 * x-amz-part-number-marker) only when the object has an additional checksum, as S3 does for general purpose
 * buckets. An SSE-C object wants its key (missing → 400, another → 403); headers choosing an encryption are
 * refused. Needs s3:GetObject and s3:GetObjectAttributes, or with a versionId s3:GetObjectVersion and
 * s3:GetObjectVersionAttributes.
 */
export const GetObjectAttributes = defineOperation<S3Call, S3Input, { bucket: BucketRecord; key: string }, S3Access>({
  name: 'GetObjectAttributes',
  action: 's3:GetObjectAttributes',
  readOnly: true,
  async resolve(input, call) {
    refuseSseChoiceOnRead(input.headers);
    const versioned = input.query.has('versionId');
    const target = await resolveObject(call, input, versioned ? 's3:GetObjectVersion' : 's3:GetObject');
    const attributesAction = versioned ? 's3:GetObjectVersionAttributes' : 's3:GetObjectAttributes';
    return { ...target, access: [...target.access, onObject(target.state.bucket, target.state.key, attributesAction)] };
  },
  async handle(input, call, { bucket, key }) {
    const h = input.headers;
    const wanted = attributesOf(one(h['x-amz-object-attributes']));
    const maxParts = Math.min(integerParam(one(h['x-amz-max-parts']) ?? null, 'max-parts', MAX_LIST), MAX_LIST);
    const marker = integerParam(one(h['x-amz-part-number-marker']) ?? null, 'part-number-marker', 0);
    const v = await findVersion(call, bucket, key, input.query.get('versionId'));
    checkReadKey(call, input, v);
    const body: Record<string, XmlValue> = {};
    // The members in the order of S3's response syntax.
    if (wanted.has('ETag')) body.ETag = v.etag;
    if (wanted.has('Checksum') && v.checksum) body.Checksum = checksumElement(v);
    if (wanted.has('ObjectParts')) body.ObjectParts = objectParts(v, maxParts, marker);
    if (wanted.has('StorageClass')) body.StorageClass = 'STANDARD';
    if (wanted.has('ObjectSize')) body.ObjectSize = v.size;
    return {
      headers: {
        'last-modified': httpTime(v.lastModified),
        ...(bucket.versioning !== null || v.versionId !== 'null' ? { 'x-amz-version-id': v.versionId } : {}),
      },
      xml: xmlDocument('GetObjectAttributesResponse', body),
    };
  },
});

/** x-amz-object-attributes: a comma-separated list of ATTRIBUTES, at least one. */
function attributesOf(value: string | undefined): Set<string> {
  const names = (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  needs(names.length > 0, S3Errors.InvalidArgument, 'Empty value provided for input HTTP header x-amz-object-attributes.');
  for (const n of names) if (!ATTRIBUTES.has(n)) throw new AwsError(S3Errors.InvalidArgument, 'Invalid attribute name specified.');
  return new Set(names);
}

/** <Checksum>: the object's value (a COMPOSITE one without the "-<parts>" suffix HeadObject shows) and its type. */
function checksumElement(v: ObjectVersionRecord): Record<string, XmlValue> {
  const c = v.checksum!;
  const value = c.type === 'COMPOSITE' ? c.value.replace(/-\d+$/, '') : c.value;
  return { [`Checksum${c.algorithm}`]: value, ChecksumType: c.type };
}

/** <ObjectParts> of a multipart object (its ETag ends in -<parts>); undefined for a single-part one: S3 answers none. */
function objectParts(v: ObjectVersionRecord, maxParts: number, marker: number): Record<string, XmlValue> | undefined {
  if (!/-\d+$/.test(v.etag)) return undefined;
  const out: Record<string, XmlValue> = { PartsCount: v.parts.length };
  if (!v.checksum) return out;
  // A multipart object's parts keep the numbers they were uploaded under (completion may skip some).
  const after = v.parts.map((p) => ({ p, n: p.partNumber })).filter(({ n }) => n > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  return {
    PartNumberMarker: marker,
    ...(truncated ? { NextPartNumberMarker: page[page.length - 1]!.n } : {}),
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map(({ p, n }) => ({ ...partChecksumElements(p), PartNumber: n, Size: p.size })),
    PartsCount: v.parts.length,
  };
}
