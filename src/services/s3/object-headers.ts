import { IncomingHttpHeaders } from 'node:http';
import { AwsError, needs } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { ObjectVersionRecord } from '../../store/metadata/s3-types.js';
import { sseResponseHeaders } from './sse-headers.js';
import { httpTime } from './xml.js';

/** The representation headers S3 stores with an object and answers on GET/HEAD. */
const STORED_HEADERS = ['content-type', 'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires', 'x-amz-website-redirect-location'];
/** User metadata (x-amz-meta-*) is limited to 2 KB. https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html */
const MAX_USER_METADATA_BYTES = 2048;

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

export function storedHeadersOf(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const v = one(h[name]);
    if (v !== undefined) out[name] = v;
  }
  // aws-chunked is how the body travelled, not how it is stored.
  if (out['content-encoding'] !== undefined) {
    const rest = out['content-encoding'].split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'aws-chunked');
    if (rest.length === 0) delete out['content-encoding'];
    else out['content-encoding'] = rest.join(',');
  }
  out['content-type'] ??= 'binary/octet-stream';
  return out;
}

export function userMetadataOf(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const v = one(value) ?? '';
    const k = name.slice('x-amz-meta-'.length);
    out[k] = v;
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  needs(size <= MAX_USER_METADATA_BYTES, S3Errors.MetadataTooLarge, 'Your metadata headers exceed the maximum allowed metadata size.');
  return out;
}

/** GET/HEAD headers of an object version (Content-Length is set by the caller, ranges change it). */
export function objectResponseHeaders(v: ObjectVersionRecord, versioned: boolean): Record<string, string> {
  const out: Record<string, string> = {
    ...v.headers,
    etag: `"${v.etag}"`,
    'last-modified': httpTime(v.lastModified),
    'accept-ranges': 'bytes',
    ...sseResponseHeaders(v.encryption),
  };
  for (const [k, val] of Object.entries(v.metadata)) out[`x-amz-meta-${k}`] = val;
  if (versioned || v.versionId !== 'null') out['x-amz-version-id'] = v.versionId;
  return out;
}

/**
 * Conditional requests (RFC 9110 §13 as S3 applies them): If-Match / If-Unmodified-Since fail with 412,
 * If-None-Match / If-Modified-Since with 304 (GET/HEAD).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
 */
export function checkPreconditions(v: ObjectVersionRecord, h: IncomingHttpHeaders): void {
  const etag = `"${v.etag}"`;
  const ifMatch = one(h['if-match']);
  const ifNoneMatch = one(h['if-none-match']);
  const ifModifiedSince = one(h['if-modified-since']);
  const ifUnmodifiedSince = one(h['if-unmodified-since']);
  const matches = (list: string) => list.split(',').map((s) => s.trim()).some((t) => t === '*' || t === etag || t === v.etag);
  const seconds = Math.floor(v.lastModified / 1000) * 1000;
  if (ifMatch !== undefined && !matches(ifMatch)) throw new AwsError(S3Errors.PreconditionFailed, 'At least one of the pre-conditions you specified did not hold');
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined) {
    const t = Date.parse(ifUnmodifiedSince);
    if (!Number.isNaN(t) && seconds > t) throw new AwsError(S3Errors.PreconditionFailed, 'At least one of the pre-conditions you specified did not hold');
  }
  if (ifNoneMatch !== undefined && matches(ifNoneMatch)) throw new AwsError(S3Errors.NotModified, 'Not Modified');
  if (ifNoneMatch === undefined && ifModifiedSince !== undefined) {
    const t = Date.parse(ifModifiedSince);
    if (!Number.isNaN(t) && seconds <= t) throw new AwsError(S3Errors.NotModified, 'Not Modified');
  }
}

/**
 * A single byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`). S3 ignores ranges it cannot parse (and
 * multiple ranges) and answers the whole object; an unsatisfiable one is 416 InvalidRange.
 */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw invalidRange(size, value);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size || size === 0) throw invalidRange(size, value);
  return { start, end };
}

/** S3's 416 names the range asked for and the object's size, in the document and in Content-Range. */
function invalidRange(size: number, requested: string): AwsError {
  const err = new AwsError(S3Errors.InvalidRange, 'The requested range is not satisfiable');
  (err as AwsError & { headers?: Record<string, string> }).headers = { 'content-range': `bytes */${size}` };
  (err as AwsError & { details?: Record<string, string> }).details = { RangeRequested: requested, ActualObjectSize: String(size) };
  return err;
}
