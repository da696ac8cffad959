import { createPublicKey, diffieHellman } from 'node:crypto';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { AwsError } from '../errors/aws-error.js';
import { CommonErrors } from '../errors/common.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { KmsDeps } from './context.js';
import { needsAlgorithm } from './key-usage.js';
import { keyPairOf } from './key-specs/asymmetric.js';

/**
 * DeriveSharedSecret with KEY_AGREEMENT keys: ECDH (NIST SP 800-56A) between the key's private key and the
 * caller's public key (DER SubjectPublicKeyInfo on the same curve); the result is the raw shared secret, the
 * same bytes `openssl pkeyutl -derive` gives for the two keys.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html
 */
export class KeyAgreement {
  constructor(private readonly deps: KmsDeps) {}

  async derive(key: KeyRecord, algorithm: string, peerPublicKey: Buffer): Promise<SecretBytes> {
    needsAlgorithm(key, 'KEY_AGREEMENT', algorithm, 'DeriveSharedSecret');
    const material = await this.deps.materials.current(key);
    const { privateKey } = keyPairOf(material);
    const invalid = () => new AwsError(CommonErrors.ValidationException, `PublicKey must be a DER-encoded X.509 public key on the curve of key spec ${key.keySpec}.`);
    let publicKey;
    try {
      publicKey = createPublicKey({ key: peerPublicKey, format: 'der', type: 'spki' });
    } catch {
      throw invalid();
    }
    if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== privateKey.asymmetricKeyDetails?.namedCurve) throw invalid();
    try {
      return SecretBytes.adopt(diffieHellman({ privateKey, publicKey }));
    } catch {
      throw invalid();
    }
  }
}
