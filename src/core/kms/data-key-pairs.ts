import { SecretBytes } from '../crypto/secret-bytes.js';
import { EncryptionContext } from '../crypto/encryption-context.js';
import { needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { Cryptography, Sealed } from './cryptography.js';
import { XksCaller } from './custom-key-stores.js';
import { needsEnabled } from './key-state.js';
import { needsSymmetricEncryptionKey } from './key-usage.js';
import { rulesOf } from './key-specs/index.js';

/**
 * GenerateDataKeyPair*: a fresh key pair of a DataKeyPairSpec (made as a KMS key of that spec would be:
 * key-specs/), its PKCS#8 DER private key encrypted under a symmetric encryption KMS key like any data key.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html
 */
export async function generateDataKeyPair(
  crypto: Cryptography,
  key: KeyRecord,
  pairSpec: string,
  context: EncryptionContext | undefined,
  operation: string,
  caller: XksCaller,
): Promise<Sealed & { privateKey: SecretBytes; publicKey: Buffer }> {
  needsEnabled(key);
  needsSymmetricEncryptionKey(key, operation);
  // SM2 exists in AWS's China Regions only.
  needs(pairSpec !== 'SM2', KmsErrors.UnsupportedOperationException, `KeyPairSpec ${pairSpec} is not supported.`);
  const rules = rulesOf({ keySpec: pairSpec });
  const material = await rules.generate();
  const publicKey = rules.publicKey!(material);
  // PrivateKeyPlaintext is DER PKCS #8 for every pair spec (the post-quantum specs' material is their seed).
  const privateKey = rules.privateKeyInfo?.(material) ?? material;
  return { privateKey, publicKey, ...(await crypto.encrypt(key, privateKey, context, operation, caller)) };
}
