import { randomBytes } from 'node:crypto';
import { CiphertextHeader, ParsedCiphertext, openBlob, parseBlob, sealBlob } from '../crypto/ciphertext.js';
import { EncryptionContext } from '../crypto/encryption-context.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { AwsError } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord, MULTI_REGION_KEY_PREFIX } from '../../store/metadata/types.js';
import { keyArn, parseKmsArn } from './arn.js';
import { KmsDeps, KmsScope } from './context.js';
import { needsEnabled } from './key-state.js';
import { needsSymmetricEncryptionKey } from './key-usage.js';
import { KeyResolver } from './resolver.js';
import { CustomKeyStores, XksCaller } from './custom-key-stores.js';
import { ParsedXksCiphertext, assembleXksBlob, openInner, parseXksBlob, sealInner, xksHeader, xksProxyAad } from '../crypto/xks-ciphertext.js';

export interface Sealed {
  readonly ciphertextBlob: Buffer;
  readonly materialId: string;
}

export interface Located {
  readonly key: KeyRecord;
  /** A blob of ../crypto/ciphertext.ts, or of a key in an external key store (../crypto/xks-ciphertext.ts). */
  readonly parsed: ParsedCiphertext | ParsedXksCiphertext;
}

const invalidCiphertext = () =>
  new AwsError(KmsErrors.InvalidCiphertextException, 'The ciphertext is invalid, or does not match the KMS key or the encryption context.');

/** Encrypt, Decrypt and data keys over the ciphertext format of ../crypto/ciphertext.ts. */
export class Cryptography {
  constructor(
    private readonly deps: KmsDeps,
    private readonly resolver: KeyResolver,
    /** The custom key stores, for keys of Origin EXTERNAL_KEY_STORE (absent: no such key can exist). */
    private readonly external?: CustomKeyStores,
  ) {}

  /**
   * `operation` names the API operation in the InvalidKeyUsageException a key of another kind gets; `caller`
   * is who an XKS proxy is told calls: the API caller (xksCaller in services/kms), or internalCaller for a
   * service inside Strongroom ("AWS Internal"). Required, so that no operation forgets it and tells the proxy of
   * a key in an external key store "AWS Internal" for a caller's request.
   */
  async encrypt(key: KeyRecord, plaintext: SecretBytes, context: EncryptionContext | undefined, operation: string, caller: XksCaller): Promise<Sealed> {
    needsEnabled(key);
    needsSymmetricEncryptionKey(key, operation);
    const material = await this.#material(key, key.currentMaterialId);
    if (!material) throw new AwsError(KmsErrors.KMSInternalException, 'The current key material of the key is missing.');
    if (key.origin === 'EXTERNAL_KEY_STORE') {
      // Double encryption: the key's own material here, then the external key through the proxy.
      const header = xksHeader(key.arn, key.currentMaterialId);
      const inner = sealInner(material, header, plaintext, context);
      const outer = await this.#external().encrypt(key, inner, xksProxyAad(header, context), caller);
      return { ciphertextBlob: assembleXksBlob(header, outer), materialId: key.currentMaterialId };
    }
    const header: CiphertextHeader = { keyArn: key.arn, materialId: key.currentMaterialId };
    return { ciphertextBlob: sealBlob(material, header, plaintext, context), materialId: key.currentMaterialId };
  }

  /**
   * Finds the key a ciphertext was made under (the blob names it, by its ARN, authenticated with the
   * ciphertext). Anything that is not a blob of a key in this region is InvalidCiphertextException; a KeyId
   * that names another key is IncorrectKeyException.
   *
   * A multi-Region key's ciphertext decrypts with any related key
   * (https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html): a blob naming
   * `…:<other region>:<account>:key/mrk-…` is served by the key of the same account and key id in this
   * Region, which holds the same materials. The binding stays as tight as a key id is: the same account, the
   * same key id, the material id and the authenticated header, only the Region may differ.
   */
  async locate(scope: KmsScope, blob: Buffer, keyRef: string | undefined): Promise<Located> {
    const parsed = parseBlob(blob) ?? parseXksBlob(blob);
    const arn = parsed && parseKmsArn(parsed.keyArn);
    if (!parsed || !arn || arn.resourceType !== 'key') throw invalidCiphertext();
    const multiRegion = arn.resource.startsWith(MULTI_REGION_KEY_PREFIX);
    if (arn.region !== scope.region && !multiRegion) throw invalidCiphertext();
    const here = keyArn(scope.region, arn.accountId, arn.resource);
    if (keyRef !== undefined) {
      const expected = await this.resolver.resolve(scope, keyRef, { aliases: true });
      if (expected.arn !== here) {
        throw new AwsError(
          KmsErrors.IncorrectKeyException,
          'The key ID in the request does not identify a CMK that can perform this operation.',
        );
      }
    }
    const key = await this.resolver.inRegion(arn.resource, arn.accountId, scope.region);
    if (!key || key.arn !== here || (arn.region !== scope.region && !key.multiRegion)) throw invalidCiphertext();
    // Each form only for its kind of key: a key in an external key store never decrypts without its proxy.
    if (('outer' in parsed) !== (key.origin === 'EXTERNAL_KEY_STORE')) throw invalidCiphertext();
    return { key, parsed };
  }

  async decrypt(located: Located, context: EncryptionContext | undefined, caller: XksCaller): Promise<{ plaintext: SecretBytes; materialId: string }> {
    needsEnabled(located.key);
    const { key, parsed } = located;
    const material = await this.#material(key, parsed.materialId);
    if ('outer' in parsed) {
      if (!material) throw invalidCiphertext();
      const inner = await this.#external().decrypt(key, parsed.outer, xksProxyAad(parsed.header, context), caller);
      const plaintext = openInner(material, parsed.header, inner, context);
      // The proxy answered, but what it gave back does not open: the spec's "invalid ciphertext" from the proxy.
      if (!plaintext) {
        throw new AwsError(KmsErrors.KMSInvalidStateException, 'The ciphertext that the external key store proxy submitted for decryption, or the encryption context, is corrupted, missing, or otherwise invalid.');
      }
      return { plaintext, materialId: parsed.materialId };
    }
    const plaintext = material && openBlob(material, parsed, context);
    if (!plaintext) throw invalidCiphertext();
    return { plaintext, materialId: parsed.materialId };
  }

  async generateDataKey(
    key: KeyRecord,
    bytes: number,
    context: EncryptionContext | undefined,
    operation: string,
    caller: XksCaller,
  ): Promise<Sealed & { plaintext: SecretBytes }> {
    needsEnabled(key);
    needsSymmetricEncryptionKey(key, operation);
    const plaintext = SecretBytes.adopt(randomBytes(bytes));
    return { plaintext, ...(await this.encrypt(key, plaintext, context, operation, caller)) };
  }

  #external(): CustomKeyStores {
    if (!this.external) throw new AwsError(KmsErrors.KMSInternalException, 'Custom key stores are not wired in this process.');
    return this.external;
  }

  #material(key: KeyRecord, materialId: string): Promise<SecretBytes | undefined> {
    return this.deps.materials.get(key, materialId);
  }
}
