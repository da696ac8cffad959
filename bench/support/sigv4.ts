import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash as NodeHash, type Hmac } from 'node:crypto';

/** Root credentials the bench installs in its throwaway data dir (never used anywhere else). */
export const BENCH_CREDENTIALS = {
  accessKeyId: 'AKIABENCHROOT0000001',
  secretAccessKey: 'bench-root-secret-access-key-00000000001',
} as const;
export const BENCH_ACCOUNT = '111122223333';
export const BENCH_REGION = 'us-east-1';

type SourceData = string | ArrayBuffer | ArrayBufferView;

/**
 * The SHA-256 (and HMAC-SHA-256 when given a secret) that SignatureV4 wants, over node:crypto.
 * This is what @smithy/hash-node does; it is not installed at the top level, and a dozen lines
 * beat a new dependency.
 */
export class NodeSha256 {
  readonly #hash: NodeHash | Hmac;

  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }

  update(data: SourceData): void {
    this.#hash.update(toBuffer(data));
  }

  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** An access key to sign with: the bench's root credentials or an IAM user's. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A complete request as the load generator replays it: the same bytes every time. */
export interface RawRequest {
  readonly method: 'POST';
  /** `/` for KMS calls; `/_strongroom/explain` for Strongroom's own endpoint. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One signer per access key (a SignatureV4 caches its derived signing keys). */
const signers = new Map<string, SignatureV4>();

function signerFor(credentials: Credentials): SignatureV4 {
  let signer = signers.get(credentials.accessKeyId);
  if (!signer) {
    signer = new SignatureV4({
      service: 'kms',
      region: BENCH_REGION,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      sha256: NodeSha256,
      // The AWS SDK does not send x-amz-content-sha256 to KMS; the server hashes the body either way.
      applyChecksum: false,
    });
    signers.set(credentials.accessKeyId, signer);
  }
  return signer;
}

/**
 * Signs one AWS JSON 1.1 KMS call for `host` (host:port exactly as the client will send it, since
 * Host is a signed header) with `credentials` (the bench's root user by default). The signature stays
 * valid for the server's 15-minute clock-skew window. Content-Length is left unsigned (as the SDK does)
 * because the load generator adds its own.
 */
export function signKmsRequest(host: string, operation: string, input: unknown, credentials: Credentials = BENCH_CREDENTIALS): Promise<RawRequest> {
  return signJson(host, '/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` }, input, credentials);
}

/** POST /_strongroom/explain (signed for service kms): the decision KMS makes for a principal, action and key. */
export function signExplainRequest(host: string, query: unknown, credentials: Credentials = BENCH_CREDENTIALS): Promise<RawRequest> {
  return signJson(host, '/_strongroom/explain', { 'content-type': 'application/json' }, query, credentials);
}

async function signJson(host: string, path: string, headers: Record<string, string>, input: unknown, credentials: Credentials): Promise<RawRequest> {
  const body = JSON.stringify(input);
  return { method: 'POST', path, headers: await signPost(signerFor(credentials), host, path, headers, body), body };
}

/** The headers of an http POST of `body` to `host` (`hostname[:port]`) and `path`, signed by `signer`: `host` and `headers` with the signature's. */
export async function signPost(signer: SignatureV4, host: string, path: string, headers: Record<string, string>, body: string | Buffer): Promise<Record<string, string>> {
  const [hostname, port] = host.split(':');
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: hostname!,
    ...(port !== undefined ? { port: Number(port) } : {}),
    path,
    query: {},
    headers: { host, ...headers },
    body,
  });
  return { ...signed.headers };
}
