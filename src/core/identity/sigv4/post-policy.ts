import { createHmac, timingSafeEqual } from 'node:crypto';
import { ALGORITHM, Credential, SigV4Error, checkSessionToken, deriveSigningKey, parseAmzDate, parseCredential } from './verify.js';
import { Principal } from '../principal.js';

/**
 * SigV4 for browser-based uploads (S3 POST Object): the form carries the base64 `policy` and its
 * signature, HMAC-SHA256(signing key, policy) in hex, with the credential scope and date as fields.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html
 * The policy's own expiration and conditions are the S3 service's to check (they are about the form).
 */
export interface PostSignatureOptions {
  readonly lookup: (accessKeyId: string) => Promise<Credential | undefined>;
  readonly checkScope: (region: string, service: string) => void;
  /** Domain-clock now for session expiry, ms. */
  readonly sessionNow: number;
}

export async function verifyPostSignature(field: (name: string) => string | undefined, opts: PostSignatureOptions): Promise<{ principal: Principal; region: string }> {
  const need = (name: string) => {
    const v = field(name);
    if (v === undefined || v === '') throw new SigV4Error('incomplete', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`);
    return v;
  };
  const policy = need('policy');
  const algorithm = need('x-amz-algorithm');
  if (algorithm !== ALGORITHM) throw new SigV4Error('incomplete', `Unsupported AWS 'algorithm': '${algorithm.slice(0, 32)}'`);
  const credential = parseCredential(need('x-amz-credential'));
  const amzDate = need('x-amz-date');
  parseAmzDate(amzDate);
  const signature = need('x-amz-signature');
  if (!/^[0-9a-f]{64}$/.test(signature)) throw new SigV4Error('mismatch', 'The request signature is malformed.');
  opts.checkScope(credential.region, credential.service);
  const cred = await opts.lookup(credential.accessKeyId);
  if (!cred) throw new SigV4Error('unknown-key', 'The AWS Access Key Id you provided does not exist in our records.');
  if (!cred.active) throw new SigV4Error('inactive-key', 'The AWS Access Key Id you provided does not exist in our records.');
  checkSessionToken(cred, field('x-amz-security-token'), opts.sessionNow);
  const key = deriveSigningKey(cred, credential.date, credential.region, credential.service);
  const expected = createHmac('sha256', key).update(policy).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SigV4Error('mismatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { principal: cred.principal, region: credential.region };
}
