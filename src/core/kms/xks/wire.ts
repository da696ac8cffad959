import { createHash } from 'node:crypto';

/**
 * What both ends of the External Key Store (XKS) Proxy API compute the same way
 * (https://github.com/aws/aws-kms-xksproxy-api-spec, xks_proxy_api_spec.md): the service name SigV4 signs
 * with, the API's base path and the Ciphertext Data Integrity Value.
 */
export const XKS_SIGNING_SERVICE = 'kms-xks-proxy';

/** Appendix C: SHA-256 over aad || ciphertextMetadata || iv || ciphertext || tag (absent fields are empty; no lengths). */
export function ciphertextDataIntegrityValue(parts: {
  aad?: Buffer | undefined;
  metadata?: Buffer | undefined;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}): Buffer {
  const h = createHash('sha256');
  if (parts.aad) h.update(parts.aad);
  if (parts.metadata) h.update(parts.metadata);
  return h.update(parts.iv).update(parts.ciphertext).update(parts.tag).digest();
}

/** Strict standard base64 (the spec's RFC 4648 §4): Node's decoder would silently skip garbage. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeBase64(value: string): Buffer | undefined {
  return BASE64.test(value) ? Buffer.from(value, 'base64') : undefined;
}
