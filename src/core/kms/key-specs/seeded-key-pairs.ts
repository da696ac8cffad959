import { SecretBytes } from '../../crypto/secret-bytes.js';

/** A post-quantum key pair expanded from its seed (the key material KMS keeps). */
export interface SeededKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/**
 * A cache of the key pairs expanded from unwrapped materials (ML-DSA and ML-KEM keep only the seed), each living
 * as long as the material cache keeps its material: `pairOf(material, keygen)` expands the seed with `keygen`
 * once per material.
 */
export function seededKeyPairs(): (material: SecretBytes, keygen: (seed: Uint8Array) => SeededKeyPair) => SeededKeyPair {
  const expanded = new WeakMap<SecretBytes, SeededKeyPair>();
  return (material, keygen) => {
    let pair = expanded.get(material);
    if (!pair) {
      pair = keygen(material.reveal());
      expanded.set(material, pair);
    }
    return pair;
  };
}
