/**
 * Hand-made AWS Query requests, signed by the real AWS signer (@smithy/signature-v4), for the tests that
 * look at the wire: the XML, the statuses, GET and presigned forms, unsigned and mis-signed requests.
 */
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { RawRequest, Sha256 } from './raw-request.js';
import { TEST_CREDENTIALS, TEST_REGION } from './server.js';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';

export interface QuerySignOptions {
  service?: 'iam' | 'sts' | string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  method?: 'POST' | 'GET';
}

/** A Query request with `params`: in a form body (POST) or the query string (GET), signed in the header. */
export async function signedQueryRequest(baseUrl: string, params: Record<string, string>, opts: QuerySignOptions = {}): Promise<RawRequest> {
  const url = new URL(baseUrl);
  const form = new URLSearchParams(params).toString();
  const method = opts.method ?? 'POST';
  const unsigned = new HttpRequest({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { host: url.host, ...(method === 'POST' ? { 'content-type': FORM_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(form)) } : {}) },
    ...(method === 'GET' ? { query: params } : { body: form }),
  });
  const signed = await signer(opts).sign(unsigned, { signingDate: new Date() });
  return { method, path: pathOf(signed), headers: { ...signed.headers }, ...(method === 'POST' ? { body: form } : {}) };
}

/** A presigned GET URL's path and query (query-string authentication), as EKS tokens use for GetCallerIdentity. */
export async function presignedQueryPath(baseUrl: string, params: Record<string, string>, opts: QuerySignOptions = {}): Promise<RawRequest> {
  const url = new URL(baseUrl);
  const unsigned = new HttpRequest({ method: 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', headers: { host: url.host }, query: params });
  const presigned = await signer(opts).presign(unsigned, { expiresIn: 60 });
  return { method: 'GET', path: pathOf(presigned), headers: { host: url.host } };
}

function signer(opts: QuerySignOptions): SignatureV4 {
  return new SignatureV4({ credentials: opts.credentials ?? TEST_CREDENTIALS, region: opts.region ?? TEST_REGION, service: opts.service ?? 'iam', sha256: Sha256 });
}

function pathOf(req: { path: string; query?: Record<string, string | string[] | null> }): string {
  const q = Object.entries(req.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v ?? '']]))
    .map(([k, v]) => `${encodeRfc3986(k!)}=${encodeRfc3986(v!)}`)
    .join('&');
  return q === '' ? req.path : `${req.path}?${q}`;
}

function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
