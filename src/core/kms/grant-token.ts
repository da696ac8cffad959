import { createHash, randomBytes } from 'node:crypto';
import { needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';

/**
 * Grant tokens: "a unique, non-secret, variable-length, base64-encoded string that represents a grant".
 * Ours is base64 of: version (1 byte) ‖ grant id (32 bytes) ‖ nonce (16 bytes: every CreateGrant answer
 * gets a different token, even for the same grant) ‖ check (the first 8 bytes of SHA-256 of what precedes,
 * so a damaged token is told apart from a token of a grant that no longer exists).
 * A token is evidence, not a credential: it never allows more than its grant allows its grantee.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#grant_token
 */
const VERSION = 1;
const GRANT_ID_BYTES = 32;
const NONCE_BYTES = 16;
const CHECK_BYTES = 8;
const TOKEN_BYTES = 1 + GRANT_ID_BYTES + NONCE_BYTES + CHECK_BYTES;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Grant ids are 64 hex characters (AWS: "a 64 character unique identifier of a grant"). */
export const GRANT_ID = /^[0-9a-f]{64}$/;

export function newGrantId(): string {
  return randomBytes(GRANT_ID_BYTES).toString('hex');
}

export function newGrantToken(grantId: string): string {
  const body = Buffer.concat([Buffer.from([VERSION]), Buffer.from(grantId, 'hex'), randomBytes(NONCE_BYTES)]);
  return Buffer.concat([body, check(body)]).toString('base64');
}

/** The grant a token names; InvalidGrantTokenException when it is not one of our tokens (never echoed). */
export function grantIdOfToken(token: string): string {
  const bytes = BASE64.test(token) ? Buffer.from(token, 'base64') : Buffer.alloc(0);
  const valid =
    bytes.length === TOKEN_BYTES &&
    bytes.toString('base64') === token &&
    bytes[0] === VERSION &&
    check(bytes.subarray(0, TOKEN_BYTES - CHECK_BYTES)).equals(bytes.subarray(TOKEN_BYTES - CHECK_BYTES));
  needs(valid, KmsErrors.InvalidGrantTokenException, 'Invalid grant token');
  return bytes.subarray(1, 1 + GRANT_ID_BYTES).toString('hex');
}

/** The grants a request's GrantTokens name (every token must be valid), without repeats. */
export function grantIdsOfTokens(tokens: readonly string[] | undefined): string[] {
  return [...new Set((tokens ?? []).map(grantIdOfToken))];
}

function check(body: Buffer): Buffer {
  return createHash('sha256').update(body).digest().subarray(0, CHECK_BYTES);
}
