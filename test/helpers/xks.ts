import { HttpRequest } from '@smithy/core/protocols';
import { Agent } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { RawResponse, Sha256, sendRaw } from './raw-request.js';
import { TEST_ACCOUNT, TEST_REGION } from './server.js';

/** An XKS proxy credential in the spec's format (access key id A-Z2-7, 20-30; secret 43-64 base64 characters). */
export const XKS_CREDENTIAL = { accessKeyId: 'XKSTESTACCESSKEY2345ABCD', secretAccessKey: 'c2VjcmV0LXhrcy1wcm94eS1rZXktZm9yLXRlc3RzLTAwMDA=' };
export const XKS_OTHER_CREDENTIAL = { accessKeyId: 'XKSOTHERACCESSKEY234567A', secretAccessKey: 'b3RoZXIteGtzLXByb3h5LWtleS1mb3ItdGVzdHMtMDAwMDAw' };
export const XKS_URI_PATH = `/_strongroom/xks/${TEST_ACCOUNT}/kms/xks/v1`;

export interface XksSignOptions {
  credentials?: { accessKeyId: string; secretAccessKey: string };
  service?: string;
  signingDate?: Date;
  method?: string;
  /** The Host header sent and signed (default: the base URL's host). */
  host?: string;
  /** Sent instead of the signed body (a body changed after signing). */
  sendBody?: string;
  /** A keep-alive agent (default: a new connection per request). */
  agent?: Agent;
}

/** A POST to the XKS proxy API signed by the AWS SDK's own SigV4 signer with service kms-xks-proxy. */
export async function xksCall(baseUrl: string, path: string, body: unknown, opts: XksSignOptions = {}): Promise<RawResponse & { json: Record<string, unknown> }> {
  const url = new URL(baseUrl);
  const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const host = opts.host ?? url.host;
  const unsigned = new HttpRequest({
    method: opts.method ?? 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path,
    headers: { host, 'content-type': 'application/json', 'content-length': String(bytes.length) },
    body: bytes,
  });
  const signer = new SignatureV4({ credentials: opts.credentials ?? XKS_CREDENTIAL, region: TEST_REGION, service: opts.service ?? 'kms-xks-proxy', sha256: Sha256 });
  const signed = await signer.sign(unsigned, { signingDate: opts.signingDate ?? new Date() });
  const sent = opts.sendBody !== undefined ? Buffer.from(opts.sendBody) : bytes;
  const res = await sendRaw(baseUrl, { method: signed.method, path, headers: { ...signed.headers, 'content-length': String(sent.length) }, body: sent }, opts.agent ? { agent: opts.agent } : {});
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(res.text) as Record<string, unknown>;
  } catch {
    /* a test that expects JSON asserts on it */
  }
  return { ...res, json };
}

export function requestMetadata(kmsOperation: string, keyArn?: string): Record<string, string> {
  return {
    awsPrincipalArn: `arn:aws:iam::${TEST_ACCOUNT}:user/alice`,
    kmsOperation,
    kmsRequestId: '4112f4d6-db54-4af4-ae30-c55a22a8dfae',
    ...(keyArn ? { kmsKeyArn: keyArn } : {}),
  };
}
