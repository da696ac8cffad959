import { SecretBytes } from '../secret-bytes.js';

/**
 * The root of trust wraps and unwraps key material; its own key never leaves it.
 * Implementations: `file` (this directory); later pkcs11 (HSM) and shamir (sealed until unsealed).
 * Every implementation runs test/contract/root-of-trust.contract.ts.
 */
export interface RootOfTrust {
  readonly kind: string;
  /** Wraps `plaintext` bound to `aad`; the result is safe to store. */
  wrap(plaintext: SecretBytes, aad: Buffer): Promise<Buffer>;
  /** Unwraps; throws RootOfTrustError when the blob or the aad does not authenticate. */
  unwrap(wrapped: Buffer, aad: Buffer): Promise<SecretBytes>;
  close(): Promise<void>;
}

export class RootOfTrustError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RootOfTrustError';
  }
}
