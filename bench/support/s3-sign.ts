import { createHash, createHmac } from 'node:crypto';
import { BENCH_REGION, Credentials } from './sigv4.js';

/**
 * SigV4 header signing of S3 requests with `x-amz-content-sha256: UNSIGNED-PAYLOAD`, as the AWS SDKs and
 * CLIs send object bodies over HTTPS (and as a streaming client that cannot hash a body before sending it
 * must): the headers are signed, the body is not hashed. Hand-rolled because the load generator needs a
 * fresh signature for every key (tens of thousands per run) and @smithy/signature-v4 costs ~50 µs each;
 * this costs one SHA-256 and one HMAC (the signing key is derived once per day).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export class S3Signer {
  readonly #credentials: Credentials;
  readonly #region: string;
  #signingKey: { date: string; key: Buffer } | undefined;

  constructor(credentials: Credentials, region = BENCH_REGION) {
    this.#credentials = credentials;
    this.#region = region;
  }

  /**
   * The headers to send with `method` `path` (already URI-encoded, no query) to `host`: x-amz-date,
   * x-amz-content-sha256, Authorization and `headers` (every header given is signed, as the SDKs sign
   * x-amz-* headers). The signature is valid for S3's 15-minute clock-skew window from `now`.
   */
  sign(method: string, host: string, path: string, headers: Readonly<Record<string, string>> = {}, now = new Date()): Record<string, string> {
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const date = amzDate.slice(0, 8);
    const all: Record<string, string> = { host, 'x-amz-content-sha256': UNSIGNED_PAYLOAD, 'x-amz-date': amzDate };
    for (const [k, v] of Object.entries(headers)) all[k.toLowerCase()] = v.trim();
    const names = Object.keys(all).sort();
    const signedHeaders = names.join(';');
    const canonical = [method, path, '', ...names.map((n) => `${n}:${all[n]}`), '', signedHeaders, UNSIGNED_PAYLOAD].join('\n');
    const scope = `${date}/${this.#region}/s3/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.#keyFor(date)).update(toSign).digest('hex');
    const { host: _host, ...rest } = all;
    return {
      ...rest,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.#credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    };
  }

  #keyFor(date: string): Buffer {
    if (this.#signingKey?.date !== date) {
      const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
      const key = hmac(hmac(hmac(hmac(`AWS4${this.#credentials.secretAccessKey}`, date), this.#region), 's3'), 'aws4_request');
      this.#signingKey = { date, key };
    }
    return this.#signingKey.key;
  }
}
