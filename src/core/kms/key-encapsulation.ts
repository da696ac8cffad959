import { SecretBytes } from '../crypto/secret-bytes.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { KmsDeps } from './context.js';
import { needsAlgorithm } from './key-usage.js';
import { Encapsulation } from './key-specs/key-spec.js';
import { rulesOf } from './key-specs/index.js';

/**
 * Encapsulate and Decapsulate with ENCAPSULATE_DECAPSULATE (ML-KEM) keys: a fresh 32-byte shared secret and its
 * ciphertext under the key's public key, and the secret back from a ciphertext with its private key (the
 * key's current material, unwrapped from the root of trust only in memory). key-specs/ml-kem.ts does the KEM.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Encapsulate.html
 */
export class KeyEncapsulation {
  constructor(private readonly deps: KmsDeps) {}

  async encapsulate(key: KeyRecord, algorithm: string): Promise<{ sharedSecret: SecretBytes; ciphertext: Buffer }> {
    const kem = this.#check(key, algorithm, 'Encapsulate');
    return kem.encapsulate(await this.deps.materials.current(key));
  }

  async decapsulate(key: KeyRecord, algorithm: string, ciphertext: Buffer): Promise<SecretBytes> {
    const kem = this.#check(key, algorithm, 'Decapsulate');
    return kem.decapsulate(await this.deps.materials.current(key), ciphertext);
  }

  /** The key is an enabled ENCAPSULATE_DECAPSULATE key whose spec offers `algorithm`; its KEM. */
  #check(key: KeyRecord, algorithm: string, operation: string): Encapsulation {
    const kem = rulesOf(key).encapsulation;
    needsAlgorithm(key, 'ENCAPSULATE_DECAPSULATE', algorithm, operation, kem !== undefined);
    return kem!;
  }
}
