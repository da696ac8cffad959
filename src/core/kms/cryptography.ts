import { randomBytes } from 'node:crypto';
import { CiphertextHeader, ParsedCiphertext, openBlob, parseBlob, sealBlob } from '../crypto/ciphertext.js';
import { EncryptionContext } from '../crypto/encryption-context.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { AwsError } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { parseKmsArn } from './arn.js';
import { KmsDeps, KmsScope } from './context.js';
import { needsEnabled } from './key-state.js';
import { needsSymmetricEncryptionKey } from './key-usage.js';
import { KeyResolver } from './resolver.js';

export interface Sealed {
  readonly ciphertextBlob: Buffer;
  readonly materialId: string;
}

export interface Located {
  readonly key: KeyRecord;
  readonly parsed: ParsedCiphertext;
}

const invalidCiphertext = () =>
  new AwsError(KmsErrors.InvalidCiphertextException, 'The ciphertext is invalid, or does not match the KMS key or the encryption context.');

/** Encrypt, Decrypt and data keys over the ciphertext format of ../crypto/ciphertext.ts. */
export class Cryptography {
  constructor(
    private readonly deps: KmsDeps,
    private readonly resolver: KeyResolver,
  ) {}

  /** `operation` names the API operation in the InvalidKeyUsageException a key of another kind gets. */
  async encrypt(key: KeyRecord, plaintext: SecretBytes, context: EncryptionContext | undefined, operation = 'Encrypt'): Promise<Sealed> {
    needsEnabled(key);
    needsSymmetricEncryptionKey(key, operation);
    const material = await this.#material(key, key.currentMaterialId);
    if (!material) throw new AwsError(KmsErrors.KMSInternalException, 'The current key material of the key is missing.');
    const header: CiphertextHeader = { keyArn: key.arn, materialId: key.currentMaterialId };
    return { ciphertextBlob: sealBlob(material, header, plaintext, context), materialId: key.currentMaterialId };
  }

  /**
   * Finds the key a ciphertext was made under (the blob names it). Anything that is not a blob of a key
   * in this region is InvalidCiphertextException; a KeyId that names another key is IncorrectKeyException.
   */
  async locate(scope: KmsScope, blob: Buffer, keyRef: string | undefined): Promise<Located> {
    const parsed = parseBlob(blob);
    const arn = parsed && parseKmsArn(parsed.keyArn);
    if (!parsed || !arn || arn.resourceType !== 'key' || arn.region !== scope.region) throw invalidCiphertext();
    if (keyRef !== undefined) {
      const expected = await this.resolver.resolve(scope, keyRef, { aliases: true });
      if (expected.arn !== parsed.keyArn) {
        throw new AwsError(
          KmsErrors.IncorrectKeyException,
          'The key ID in the request does not identify a CMK that can perform this operation.',
        );
      }
    }
    const key = await this.resolver.byIdAnywhere(arn.resource);
    if (!key || key.arn !== parsed.keyArn) throw invalidCiphertext();
    return { key, parsed };
  }

  async decrypt(located: Located, context: EncryptionContext | undefined): Promise<{ plaintext: SecretBytes; materialId: string }> {
    needsEnabled(located.key);
    const material = await this.#material(located.key, located.parsed.materialId);
    const plaintext = material && openBlob(material, located.parsed, context);
    if (!plaintext) throw invalidCiphertext();
    return { plaintext, materialId: located.parsed.materialId };
  }

  async generateDataKey(
    key: KeyRecord,
    bytes: number,
    context: EncryptionContext | undefined,
    operation = 'GenerateDataKey',
  ): Promise<Sealed & { plaintext: SecretBytes }> {
    needsEnabled(key);
    needsSymmetricEncryptionKey(key, operation);
    const plaintext = SecretBytes.adopt(randomBytes(bytes));
    return { plaintext, ...(await this.encrypt(key, plaintext, context, operation)) };
  }

  #material(key: KeyRecord, materialId: string): Promise<SecretBytes | undefined> {
    return this.deps.materials.get(key, materialId);
  }
}
