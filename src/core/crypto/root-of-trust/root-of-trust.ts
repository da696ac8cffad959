import { SecretBytes } from '../secret-bytes.js';

/**
 * What wraps and unwraps secrets for storage: `wrap(plaintext, aad)` gives a blob that is safe to store,
 * `unwrap` gives the plaintext back only with the same aad. Every component that stores a secret (KMS key
 * material, access-key secrets, service keys, signing keys, import wrapping keys) holds one of these: the
 * Keyring (keyring.ts), never the root of trust itself.
 */
export interface KeyWrapper {
  /** Wraps `plaintext` bound to `aad`; the result is safe to store. */
  wrap(plaintext: SecretBytes, aad: Buffer): Promise<Buffer>;
  /** Unwraps; throws RootOfTrustError when the blob or the aad does not authenticate (KeyringSealedError when sealed). */
  unwrap(wrapped: Buffer, aad: Buffer): Promise<SecretBytes>;
}

/**
 * The root of trust wraps one thing: the keyring (keyring.ts, src/core/crypto/README.md). Its own key never
 * leaves it. Implementations: `file` (a key file), `pkcs11` (an HSM key); a root may be unavailable (an HSM
 * gone, a sealed root waiting for its shares): its calls then throw RootOfTrustError and the keyring keeps
 * what it unwrapped. Every implementation runs test/contract/root-of-trust.contract.ts.
 */
export interface RootOfTrust extends KeyWrapper {
  /** `file`, `pkcs11`, …: recorded with the keyring, so a start with another kind of root is refused clearly. */
  readonly kind: string;
  /** Names this root for messages and the audit record, without any secret (e.g. the HSM token and key labels). */
  readonly description: string;
  close(): Promise<void>;
}

export class RootOfTrustError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RootOfTrustError';
  }
}

/** The keyring holds no keys (not unsealed yet, or sealed again): nothing can be wrapped or unwrapped. */
export class KeyringSealedError extends RootOfTrustError {
  constructor() {
    super('the keyring is sealed');
    this.name = 'KeyringSealedError';
  }
}
