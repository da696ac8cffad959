/**
 * Hand-made requests for the tests that need to step outside what @aws-sdk/client-kms sends: signed by the
 * real AWS signer (@smithy/signature-v4) but with any body, target or header, and sent with node:http so
 * that the test sees the raw status, headers and body.
 */
import { HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { Agent, IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { TEST_CREDENTIALS, TEST_REGION } from './server.js';

export const Sha256 = Hash.bind(null, 'sha256');
export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface RawRequest {
  method?: string;
  path?: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

export class RequestTimeoutError extends Error {
  constructor(ms: number, what: string) {
    super(`no answer within ${ms} ms: ${what}`);
    this.name = 'RequestTimeoutError';
  }
}

/**
 * Sends one request with node:http (node:https for an https base URL, any certificate accepted) and collects
 * the whole answer; rejects after `timeoutMs`. Without an `agent`, each request gets its own connection,
 * closed after the answer.
 */
export function sendRaw(baseUrl: string, req: RawRequest, opts: { timeoutMs?: number; agent?: Agent } = {}): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const r = send(
      {
        host: url.hostname,
        port: url.port,
        method: req.method ?? 'POST',
        path: req.path ?? '/',
        headers: req.headers,
        agent: opts.agent ?? false,
        ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => done(() => reject(err)));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          done(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') }));
        });
      },
    );
    const timer = setTimeout(() => {
      done(() => reject(new RequestTimeoutError(timeoutMs, `${req.method ?? 'POST'} ${req.path ?? '/'} ${req.headers['x-amz-target'] ?? ''}`)));
      r.destroy();
    }, timeoutMs);
    r.on('error', (err) => done(() => reject(err)));
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

export interface SignOptions {
  region?: string;
  service?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  signingDate?: Date;
  /** Headers signed along with the rest. */
  headers?: Record<string, string>;
  method?: string;
  path?: string;
  /** Headers sent but left out of the signature (lower-case names), as a client that signs only some would. */
  unsigned?: string[];
}

/**
 * An AWS JSON 1.1 request to `baseUrl` with `X-Amz-Target: <target>` and exactly `body`, signed as the SDK
 * signs (x-amz-content-sha256 included). `target` may be anything, e.g. 'TrentService.Nope'.
 */
export async function signedJsonRequest(baseUrl: string, target: string, body: Buffer | string, opts: SignOptions = {}): Promise<RawRequest> {
  const url = new URL(baseUrl);
  const bytes = Buffer.from(body);
  const unsigned = new HttpRequest({
    method: opts.method ?? 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: opts.path ?? '/',
    headers: {
      host: url.host,
      'content-type': JSON_CONTENT_TYPE,
      'content-length': String(bytes.length),
      'x-amz-target': target,
      ...opts.headers,
    },
    body: bytes,
  });
  const signer = new SignatureV4({
    credentials: opts.credentials ?? TEST_CREDENTIALS,
    region: opts.region ?? TEST_REGION,
    service: opts.service ?? 'kms',
    sha256: Sha256,
  });
  const signed = await signer.sign(unsigned, { signingDate: opts.signingDate ?? new Date(), ...(opts.unsigned ? { unsignableHeaders: new Set(opts.unsigned) } : {}) });
  return { method: signed.method, path: signed.path, headers: { ...signed.headers }, body: bytes };
}

/** Parses an AWS JSON error answer; fails (throws) when the body is not `{"__type": string, "message": string}`. */
export function awsJsonError(res: RawResponse): { __type: string; message: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    throw new Error(`status ${res.status}: body is not JSON: ${JSON.stringify(res.text.slice(0, 200))}`);
  }
  const err = parsed as { __type?: unknown; message?: unknown };
  if (typeof parsed !== 'object' || parsed === null || typeof err.__type !== 'string' || typeof err.message !== 'string') {
    throw new Error(`status ${res.status}: not an AWS JSON error: ${res.text.slice(0, 200)}`);
  }
  return { __type: err.__type, message: err.message };
}

export interface S3RequestOptions {
  method?: string;
  /** The path as sent (already percent-encoded, S3 style: each segment once), e.g. '/bucket/some%20key'. */
  path: string;
  /** Headers signed along with the rest (host, x-amz-date, x-amz-content-sha256 and authorization are added). */
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** x-amz-content-sha256 as signed; default the hex SHA-256 of `body`. */
  payloadHash?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region?: string;
  signingDate?: Date;
}

/**
 * An S3 REST request to `baseUrl`, signed as the S3 SDKs sign (service s3, the path not re-encoded,
 * x-amz-content-sha256 signed), with exactly the given path, headers and body — including what an SDK
 * would refuse to send. The signature (hex) is returned too, as the seed of aws-chunked chunk signatures.
 */
export async function signedS3Request(baseUrl: string, o: S3RequestOptions): Promise<RawRequest & { signature: string; amzDate: string }> {
  const url = new URL(baseUrl);
  const bytes = o.body === undefined ? Buffer.alloc(0) : Buffer.from(o.body);
  const [path, query] = splitPathQuery(o.path);
  const unsigned = new HttpRequest({
    method: o.method ?? 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query,
    headers: {
      host: url.host,
      'x-amz-content-sha256': o.payloadHash ?? createHash('sha256').update(bytes).digest('hex'),
      ...(o.body !== undefined && !Object.keys(o.headers ?? {}).some((h) => h.toLowerCase() === 'content-length') ? { 'content-length': String(bytes.length) } : {}),
      ...o.headers,
    },
  });
  const signer = new SignatureV4({
    credentials: o.credentials ?? TEST_CREDENTIALS,
    region: o.region ?? TEST_REGION,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(unsigned, { signingDate: o.signingDate ?? new Date() });
  const auth = String(signed.headers.authorization ?? signed.headers.Authorization);
  const signature = /Signature=([0-9a-f]{64})/.exec(auth)![1]!;
  return { method: signed.method, path: o.path, headers: { ...signed.headers }, body: bytes, signature, amzDate: String(signed.headers['x-amz-date']) };
}

function splitPathQuery(p: string): [string, Record<string, string | string[]>] {
  const q = p.indexOf('?');
  if (q < 0) return [p, {}];
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(p.slice(q + 1))) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return [p.slice(0, q), query];
}

/** Parses an S3 XML error answer: Code and Message (fails when the body is not an <Error> document). */
export function s3XmlError(res: RawResponse): { code: string; message: string } {
  const code = /<Code>([^<]*)<\/Code>/.exec(res.text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(res.text)?.[1];
  if (!res.text.includes('<Error>') || code === undefined || message === undefined) throw new Error(`status ${res.status}: not an S3 error: ${res.text.slice(0, 300)}`);
  return { code, message };
}
