import { Shape } from './shapes.js';

/**
 * What a validation message may never echo and an audit record may never hold: values of `sensitive`
 * shapes (Plaintext, SecretAccessKey…), blobs of any kind (CiphertextBlob, data keys, even when the model
 * does not flag them), and the members below, secrets the botocore models leave unflagged: session tokens,
 * an MFA device's current code (TokenCode, usable again within its time window), a context provider's
 * signed assertion, passwords, private keys, an SSE-C customer key. Anything inside such a member (a list
 * of them, a structure holding one) is covered too. (SerialNumber, the MFA device's ARN or serial, is an
 * identifier, not a secret, and CloudTrail shows it; so is ExternalId, which AWS documents as not secret.)
 */
export const SECRET_MEMBERS: ReadonlySet<string> = new Set([
  'Plaintext', 'CiphertextBlob', 'SecretAccessKey', 'SessionToken', 'TokenCode', 'ContextAssertion', 'SAMLAssertion',
  'WebIdentityToken', 'Password', 'NewPassword', 'OldPassword', 'PrivateKeyPlaintext', 'PrivateKey', 'CustomerKey',
]);

/** Whether a value of `shape` is secret by its shape alone (`sensitive`, or a blob). */
export function isSecretShape(shape: Shape | undefined): boolean {
  return shape?.sensitive === true || shape?.type === 'blob';
}
