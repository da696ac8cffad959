import { SecretBytes } from '../crypto/secret-bytes.js';
import { AwsError, needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { KmsDeps } from './context.js';
import { needsEnabled } from './key-state.js';
import { needsAlgorithm } from './key-usage.js';
import { rulesOf } from './key-specs/index.js';
import { MessageType, Signing } from './key-specs/key-spec.js';

/**
 * GetPublicKey, Sign and Verify on asymmetric keys (https://docs.aws.amazon.com/kms/latest/developerguide/symmetric-asymmetric.html).
 * The private key is the key's current material, unwrapped from the root of trust only in memory.
 */
export class Signatures {
  constructor(private readonly deps: KmsDeps) {}

  /** The DER SubjectPublicKeyInfo of an asymmetric key (any usage); symmetric and HMAC keys have none. */
  async publicKey(key: KeyRecord): Promise<Buffer> {
    needsEnabled(key);
    const rules = rulesOf(key);
    needs(
      rules.publicKey !== undefined,
      KmsErrors.UnsupportedOperationException,
      `${key.arn} has key spec ${key.keySpec}; GetPublicKey is supported only for asymmetric KMS keys.`,
    );
    return rules.publicKey!(await this.#material(key));
  }

  async sign(key: KeyRecord, algorithm: string, message: SecretBytes, messageType: MessageType): Promise<Buffer> {
    const signing = this.#check(key, algorithm, 'Sign');
    return signing.sign(await this.#material(key), algorithm, message.reveal(), messageType);
  }

  /** Throws KMSInvalidSignatureException when the signature does not verify, as AWS does. */
  async verify(key: KeyRecord, algorithm: string, message: SecretBytes, messageType: MessageType, signature: Buffer): Promise<void> {
    const signing = this.#check(key, algorithm, 'Verify');
    if (!(await signing.verify(await this.#material(key), algorithm, message.reveal(), messageType, signature))) {
      throw new AwsError(KmsErrors.KMSInvalidSignatureException, 'The signature verification failed: the signature is not valid for this message, key and algorithm.');
    }
  }

  /** The key is an enabled SIGN_VERIFY key whose spec offers `algorithm`; its family's signer. */
  #check(key: KeyRecord, algorithm: string, operation: string): Signing {
    const signing = rulesOf(key).signing;
    needsAlgorithm(key, 'SIGN_VERIFY', algorithm, operation, signing !== undefined);
    return signing!;
  }

  #material(key: KeyRecord): Promise<SecretBytes> {
    return this.deps.materials.current(key);
  }
}
