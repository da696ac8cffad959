import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { canonicalRequest, headerMap, sha256Hex } from '../../identity/sigv4/canonical-request.js';
import { formatAmzDate } from '../../identity/sigv4/verify.js';
import { XKS_SIGNING_SERVICE } from './wire.js';

/**
 * How KMS reaches XKS proxies. The spec requires HTTPS with a certificate the client trusts (Node's CAs, plus
 * NODE_EXTRA_CA_CERTS, plus `ca`: STRONGROOM_XKS_CA_FILE, PEM, for proxies with a private CA); `allowHttp` (STRONGROOM_XKS_ALLOW_HTTP, for tests on loopback) sends plain HTTP
 * instead. `connectTo` (STRONGROOM_XKS_CONNECT_TO, like curl's --connect-to) sends a proxy host's requests to
 * another address and port — the endpoint names a host only (AWS's pattern has no port), while the Host
 * header, the TLS server name and the signature keep the endpoint's host.
 */
export interface XksClientOptions {
  readonly allowHttp: boolean;
  readonly connectTo: ReadonlyMap<string, { readonly host: string; readonly port: number }>;
  /** AWS KMS waits 250 ms for each proxy call (the spec's "KMS Considerations"). */
  readonly timeoutMs: number;
  /** More trusted CA certificates (PEM) for proxies' TLS certificates. */
  readonly ca?: string;
}

export const DEFAULT_XKS_CLIENT: XksClientOptions = { allowHttp: false, connectTo: new Map(), timeoutMs: 250 };

export interface XksTarget {
  readonly uriEndpoint: string;
  readonly uriPath: string;
  readonly accessKeyId: string;
  readonly secret: SecretBytes;
  /** The region KMS calls from (the credential scope's region). */
  readonly region: string;
}

/** Why a proxy call failed, as the spec's KMS error table tells the cases apart. */
export type XksFailure =
  | { readonly kind: 'proxy'; readonly errorName: string }
  | { readonly kind: 'unreachable' }
  | { readonly kind: 'tls' }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'invalid-response' };

export class XksCallError extends Error {
  constructor(readonly failure: XksFailure) {
    super(`XKS proxy call failed: ${failure.kind === 'proxy' ? failure.errorName : failure.kind}`);
    this.name = 'XksCallError';
  }
}

const TLS_ERROR = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL)/;

export class XksClient {
  readonly #https: HttpsAgent;
  readonly #http = new HttpAgent({ keepAlive: true, maxSockets: 64 });

  constructor(private readonly options: XksClientOptions = DEFAULT_XKS_CLIENT) {
    // Node's CAs and the configured ones (a `ca` option alone would replace Node's).
    this.#https = new HttpsAgent({ keepAlive: true, maxSockets: 64, ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}) });
  }

  /** POSTs `body` to <endpoint><path>/<api>, signed with SigV4 service kms-xks-proxy; resolves to the JSON object answered. */
  async call(target: XksTarget, api: string, body: unknown): Promise<Record<string, unknown>> {
    const endpoint = new URL(target.uriEndpoint);
    const path = `${target.uriPath}/${api}`;
    const bytes = Buffer.from(JSON.stringify(body));
    const host = endpoint.host;
    const amzDate = formatAmzDate(Date.now());
    const rawHeaders = ['host', host, 'x-amz-date', amzDate];
    const signed = ['host', 'x-amz-date'];
    const canonical = canonicalRequest({ method: 'POST', rawPath: path, rawQuery: '', rawHeaders }, headerMap(rawHeaders), signed, sha256Hex(bytes), { s3: false });
    const date = amzDate.slice(0, 8);
    const scope = `${date}/${target.region}/${XKS_SIGNING_SERVICE}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    let key = createHmac('sha256', Buffer.concat([Buffer.from('AWS4'), target.secret.reveal()])).update(date).digest();
    for (const part of [target.region, XKS_SIGNING_SERVICE, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
    const headers = {
      host,
      'x-amz-date': amzDate,
      'content-type': 'application/json',
      'content-length': String(bytes.length),
      authorization: `AWS4-HMAC-SHA256 Credential=${target.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`,
    };
    const to = this.options.connectTo.get(endpoint.hostname);
    const plain = this.options.allowHttp;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      let settled = false;
      const fail = (f: XksFailure) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(new XksCallError(f));
      };
      const send = plain ? httpRequest : httpsRequest;
      const req = send(
        {
          host: to?.host ?? endpoint.hostname,
          port: to?.port ?? (plain ? 80 : 443),
          method: 'POST',
          path,
          headers,
          agent: plain ? this.#http : this.#https,
          ...(plain ? {} : { servername: endpoint.hostname }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > 1024 * 1024) return fail({ kind: 'invalid-response' });
            chunks.push(c);
          });
          res.on('error', () => fail({ kind: 'unreachable' }));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      const timer = setTimeout(() => fail({ kind: 'timeout' }), this.options.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => fail(TLS_ERROR.test(err.code ?? '') ? { kind: 'tls' } : { kind: 'unreachable' }));
      req.end(bytes);
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new XksCallError({ kind: 'invalid-response' });
    }
    const obj = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
    if (status === 200 && obj) return obj;
    if (obj && typeof obj.errorName === 'string') throw new XksCallError({ kind: 'proxy', errorName: obj.errorName });
    throw new XksCallError({ kind: 'invalid-response' });
  }

  close(): void {
    this.#https.destroy();
    this.#http.destroy();
  }
}
