import { constants, privateDecrypt, publicEncrypt } from 'node:crypto';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { AwsError, needs } from '../errors/aws-error.js';
import { CommonErrors } from '../errors/common.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { KmsDeps } from './context.js';
import { needsAlgorithm } from './key-usage.js';
import { keyPairOf } from './key-specs/asymmetric.js';

/** RSAES-OAEP with MGF1 of the same hash (RFC 8017 §7.1), as AWS KMS and `openssl pkeyutl -pkeyopt rsa_oaep_md:…` use it. */
const OAEP_HASH: Readonly<Record<string, 'sha1' | 'sha256'>> = { RSAES_OAEP_SHA_1: 'sha1', RSAES_OAEP_SHA_256: 'sha256' };
const HASH_BYTES = { sha1: 20, sha256: 32 } as const;

/**
 * Encrypt and Decrypt with an asymmetric ENCRYPT_DECRYPT key (https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html#key-spec-rsa-encryption).
 * The ciphertext is the bare RSAES-OAEP ciphertext, as AWS returns it, so anyone with the public key can
 * make one offline; it names no key, so Decrypt needs the KeyId. No encryption context (AWS: asymmetric
 * keys do not support one).
 */
export class AsymmetricEncryption {
  constructor(private readonly deps: KmsDeps) {}

  async encrypt(key: KeyRecord, algorithm: string, plaintext: SecretBytes, context: unknown, operation = 'Encrypt'): Promise<Buffer> {
    const hash = this.#check(key, algorithm, context, operation);
    const material = await this.#material(key);
    const { publicKey } = keyPairOf(material);
    // RFC 8017 §7.1.1: at most k − 2·hLen − 2 bytes (RSA_2048: 214 with SHA-1, 190 with SHA-256).
    const max = publicKey.asymmetricKeyDetails!.modulusLength! / 8 - 2 * HASH_BYTES[hash] - 2;
    needs(
      plaintext.length <= max,
      CommonErrors.ValidationException,
      `Plaintext is too long: ${algorithm} with key spec ${key.keySpec} encrypts at most ${max} bytes.`,
    );
    return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext.reveal());
  }

  async decrypt(key: KeyRecord, algorithm: string, ciphertext: Buffer, context: unknown, operation = 'Decrypt'): Promise<SecretBytes> {
    const hash = this.#check(key, algorithm, context, operation);
    const material = await this.#material(key);
    try {
      const { privateKey } = keyPairOf(material);
      return SecretBytes.adopt(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext));
    } catch {
      throw new AwsError(KmsErrors.InvalidCiphertextException, 'The ciphertext is invalid, or does not match the KMS key or the encryption algorithm.');
    }
  }

  #check(key: KeyRecord, algorithm: string, context: unknown, operation: string): 'sha1' | 'sha256' {
    needsAlgorithm(key, 'ENCRYPT_DECRYPT', algorithm, operation, OAEP_HASH[algorithm] !== undefined);
    needs(
      context === undefined || Object.keys(context as object).length === 0,
      CommonErrors.ValidationException,
      `EncryptionContext is not supported with asymmetric KMS keys (${algorithm}).`,
    );
    return OAEP_HASH[algorithm]!;
  }

  #material(key: KeyRecord): Promise<SecretBytes> {
    return this.deps.materials.current(key);
  }
}
