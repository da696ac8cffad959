import { readFileSync } from 'node:fs';

/**
 * The XKS proxy's SigV4 credentials (service `kms-xks-proxy`), one or more per account whose keys the proxy
 * serves: several per account let a credential be rotated as the spec's "SigV4 credentials rotation" asks
 * (add the new one, UpdateCustomKeyStore in KMS, remove the old one). They are unrelated to IAM access keys,
 * as the spec requires, and follow its format: an access key id of 20–30 characters A–Z and 2–7, a secret of
 * 43–64 base64 characters (what AWS KMS's XksProxyAuthenticationCredential accepts).
 */
export interface XksProxyCredential {
  readonly accountId: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface XksProxyConfig {
  readonly credentials: readonly XksProxyCredential[];
  /** The file they were read from: re-read when it changes (rotation without a restart, as the spec asks). */
  readonly file?: string;
}

const ACCESS_KEY_ID = /^[A-Z2-7]{20,30}$/;
const SECRET = /^[A-Za-z0-9/+=]{43,64}$/;

/**
 * Reads STRONGROOM_XKS_PROXY_CREDENTIALS_FILE: a JSON array of {accountId, accessKeyId, secretAccessKey}.
 * Errors name the entry and the field, never the secret.
 */
export function readXksProxyCredentials(file: string, fail: (message: string) => Error): XksProxyConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fail(`STRONGROOM_XKS_PROXY_CREDENTIALS_FILE ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not the parser's message: it may quote the file, secrets included.
    throw fail(`STRONGROOM_XKS_PROXY_CREDENTIALS_FILE ${file}: not valid JSON`);
  }
  return { credentials: parseXksProxyCredentials(parsed, (m) => fail(`STRONGROOM_XKS_PROXY_CREDENTIALS_FILE ${file}: ${m}`)), file };
}

export function parseXksProxyCredentials(value: unknown, fail: (message: string) => Error): XksProxyCredential[] {
  if (!Array.isArray(value) || value.length === 0) throw fail('expected a non-empty JSON array of {accountId, accessKeyId, secretAccessKey}');
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const { accountId, accessKeyId, secretAccessKey } = e;
    if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) throw fail(`entry ${i}: accountId must be 12 digits`);
    if (typeof accessKeyId !== 'string' || !ACCESS_KEY_ID.test(accessKeyId)) throw fail(`entry ${i}: accessKeyId must be 20 to 30 characters A-Z and 2-7`);
    if (typeof secretAccessKey !== 'string' || !SECRET.test(secretAccessKey)) throw fail(`entry ${i}: secretAccessKey must be 43 to 64 characters A-Z, a-z, 0-9, +, / and =`);
    if (seen.has(accessKeyId)) throw fail(`entry ${i}: accessKeyId ${accessKeyId} appears twice`);
    seen.add(accessKeyId);
    return { accountId, accessKeyId, secretAccessKey };
  });
}
