import { SecretBytes } from '../../crypto/secret-bytes.js';
import { KeyUsage } from '../../../store/metadata/types.js';

/**
 * The rules of one KeySpec of the KMS model: which key usages it allows, which algorithms each usage brings
 * (as DescribeKey lists them), how its material is made, whether it rotates. Each family (symmetric, rsa,
 * ecc, hmac, ml-dsa, ml-kem) declares its specs in a module of this folder; index.ts gathers them.
 * https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html
 */
export interface Algorithms {
  readonly EncryptionAlgorithms?: readonly string[];
  readonly SigningAlgorithms?: readonly string[];
  readonly MacAlgorithms?: readonly string[];
  readonly KeyAgreementAlgorithms?: readonly string[];
  readonly EncapsulationAlgorithms?: readonly string[];
}

export type MessageType = 'RAW' | 'DIGEST' | 'EXTERNAL_MU';

/**
 * Sign and Verify for a family's signing algorithms (the spec's SigningAlgorithms were already checked).
 * Both check the MessageType and the message length the algorithm allows (ValidationException otherwise);
 * verify answers false for a signature that is not valid, well-formed or not.
 */
export interface Signing {
  sign(material: SecretBytes, algorithm: string, message: Buffer, messageType: MessageType): Buffer | Promise<Buffer>;
  verify(material: SecretBytes, algorithm: string, message: Buffer, messageType: MessageType, signature: Buffer): boolean | Promise<boolean>;
}

/** Encapsulate and Decapsulate for a KEM family (the ML_KEM algorithm was already checked). */
export interface Encapsulation {
  encapsulate(material: SecretBytes): { sharedSecret: SecretBytes; ciphertext: Buffer };
  /** InvalidCiphertextException when the ciphertext cannot be one of this spec. */
  decapsulate(material: SecretBytes, ciphertext: Buffer): SecretBytes;
}

export interface KeySpecRules {
  readonly spec: string;
  /** Each allowed usage and the algorithms a key of this spec and usage has. */
  readonly usages: Readonly<Partial<Record<KeyUsage, Algorithms>>>;
  /**
   * The usage CreateKey takes when KeyUsage is omitted: ENCRYPT_DECRYPT for symmetric keys (the model's
   * default); none for the others, which must name theirs.
   */
  readonly defaultUsage?: KeyUsage;
  /** Automatic and on-demand rotation: symmetric encryption keys only (AWS KMS Developer Guide, rotate-keys). */
  readonly rotates: boolean;
  /** New key material: raw bytes for symmetric and HMAC keys, the PKCS#8 DER private key for asymmetric ones. */
  generate(): Promise<SecretBytes>;
  /**
   * Imported key material (ImportKeyMaterial) as this spec stores it, or undefined when it is not key material
   * of this spec (IncorrectKeyMaterialException): 256 bits for SYMMETRIC_DEFAULT, AWS's lengths for HMAC, a
   * PKCS#8 DER private key of the spec's size or curve for RSA and ECC (stored re-encoded, so the same key
   * imported again compares equal). Absent for specs that take no imported material (ML-DSA, ML-KEM: CreateKey
   * with Origin EXTERNAL refuses them). https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-conceptual.html
   */
  importable?(raw: Buffer): Buffer | undefined;
  /** The DER SubjectPublicKeyInfo of an asymmetric key's material (GetPublicKey); absent for secret-key specs. */
  publicKey?(material: SecretBytes): Buffer;
  /**
   * The private key as GenerateDataKeyPair returns it (DER PKCS #8) when the material is not already that
   * (the post-quantum specs keep their seed); absent when the material is the PKCS #8 key itself.
   */
  privateKeyInfo?(material: SecretBytes): SecretBytes;
  /** Sign / Verify, for the specs that offer SIGN_VERIFY. */
  readonly signing?: Signing;
  /** Encapsulate / Decapsulate, for the specs that offer ENCAPSULATE_DECAPSULATE. */
  readonly encapsulation?: Encapsulation;
}
