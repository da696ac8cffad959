import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { safeDecode, uriEncode } from './uri-encode.js';

/** The parts of an HTTP request that SigV4 signs, as they arrived on the wire. */
export interface SignableRequest {
  readonly method: string;
  /** Path as received, still percent-encoded, without the query. */
  readonly rawPath: string;
  /** Query as received (after '?'), still percent-encoded; '' when none. */
  readonly rawQuery: string;
  /** Node's `req.rawHeaders`: name, value, name, value, … */
  readonly rawHeaders: readonly string[];
}

export function sha256Hex(data: string | Buffer): string {
  // crypto.hash (Node >= 20.12) is the one-shot form: no Hash object per call on the hot path.
  return oneShot ? oneShot('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

const oneShot = (crypto as { hash?: (alg: string, data: string | Buffer, enc: 'hex') => string }).hash;

/**
 * Canonical URI. S3 signs the path encoded once; every other service normalizes it and encodes each
 * segment a second time (the client already encoded it once to send it).
 */
export function canonicalUri(rawPath: string, s3: boolean): string {
  const path = rawPath === '' ? '/' : rawPath;
  if (s3) return path.split('/').map((seg) => uriEncode(safeDecode(seg))).join('/');
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(uriEncode(seg));
  }
  const joined = '/' + out.join('/');
  return path.endsWith('/') && joined !== '/' ? joined + '/' : joined;
}

export function canonicalQuery(rawQuery: string, exclude?: string): string {
  if (rawQuery === '') return '';
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = safeDecode(eq < 0 ? part : part.slice(0, eq));
    if (name === exclude) continue;
    const value = eq < 0 ? '' : safeDecode(part.slice(eq + 1));
    pairs.push([uriEncode(name), uriEncode(value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/**
 * Header values by lower-case name. A repeated header's values are normalized and joined with ',' as
 * SigV4 requires; single values are kept as received and normalized only if they are signed.
 */
export function headerMap(rawHeaders: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    const prev = map.get(name);
    map.set(name, prev === undefined ? value : `${normalizeValue(prev)},${normalizeValue(value)}`);
  }
  return map;
}

/** SigV4 "trimall": no leading or trailing spaces, runs of spaces as one. */
export function normalizeValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

export function canonicalRequest(
  req: SignableRequest,
  headers: Map<string, string>,
  signedHeaders: readonly string[],
  payloadHash: string,
  options: { s3: boolean; excludeQuery?: string },
): string {
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${normalizeValue(headers.get(h) ?? '')}\n`).join('');
  return [
    req.method,
    canonicalUri(req.rawPath, options.s3),
    canonicalQuery(req.rawQuery, options.excludeQuery),
    canonicalHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}
