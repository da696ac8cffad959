import { AwsError } from '../../../core/errors/aws-error.js';
import { CommonErrors } from '../../../core/errors/common.js';
import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { Located } from '../../../core/kms/cryptography.js';
import { KeyRecord } from '../../../store/metadata/types.js';
import { onKey, defineKmsOperation } from '../call.js';
import { needsCiphertextBlob } from '../ciphertext-input.js';
import { needsSymmetricAlgorithm } from '../symmetric.js';
import { xksCaller } from '../custom-key-store-call.js';

interface Input {
  CiphertextBlob?: Buffer;
  SourceEncryptionContext?: Record<string, string>;
  SourceKeyId?: string;
  DestinationKeyId: string;
  DestinationEncryptionContext?: Record<string, string>;
  SourceEncryptionAlgorithm?: string;
  DestinationEncryptionAlgorithm?: string;
}

type Source = { readonly symmetric: Located } | { readonly asymmetric: KeyRecord; readonly ciphertext: Buffer; readonly algorithm: string };

const isAsymmetric = (algorithm: string | undefined): algorithm is string => algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT';
const keyOf = (source: Source): KeyRecord => ('symmetric' in source ? source.symmetric.key : source.asymmetric);

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html
 * Needs kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination key.
 * The plaintext never leaves the server. Either side may be an RSA ENCRYPT_DECRYPT key with its
 * RSAES-OAEP algorithm; an asymmetric source ciphertext names no key, so SourceKeyId is then required.
 */
export const ReEncrypt = defineKmsOperation<Input, { source: Source; destination: KeyRecord }>({
  name: 'ReEncrypt',
  action: 'kms:ReEncrypt*',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  resolve: async (input, call) => {
    needsCiphertextBlob(input.CiphertextBlob);
    const sourceAlgorithm = input.SourceEncryptionAlgorithm;
    let source: Source;
    if (isAsymmetric(sourceAlgorithm)) {
      if (input.SourceKeyId === undefined) {
        throw new AwsError(CommonErrors.ValidationException, `SourceKeyId is required to decrypt with the asymmetric encryption algorithm ${sourceAlgorithm}.`);
      }
      const key = await call.kms.resolver.resolve(call.scope, input.SourceKeyId, { aliases: true });
      if (key.keySpec === 'SYMMETRIC_DEFAULT') needsSymmetricAlgorithm(sourceAlgorithm);
      source = { asymmetric: key, ciphertext: input.CiphertextBlob, algorithm: sourceAlgorithm };
    } else {
      source = { symmetric: await call.kms.crypto.locate(call.scope, input.CiphertextBlob, input.SourceKeyId) };
    }
    const destination = await call.kms.resolver.resolve(call.scope, input.DestinationKeyId, { aliases: true });
    if (destination.keySpec === 'SYMMETRIC_DEFAULT') needsSymmetricAlgorithm(input.DestinationEncryptionAlgorithm);
    const algorithms = (algorithm: string | undefined) => ({ 'kms:EncryptionAlgorithm': algorithm ?? 'SYMMETRIC_DEFAULT' });
    return {
      access: [
        onKey(keyOf(source), 'kms:ReEncryptFrom', { encryptionContext: input.SourceEncryptionContext, keyRef: input.SourceKeyId, conditions: algorithms(sourceAlgorithm) }),
        onKey(destination, 'kms:ReEncryptTo', {
          encryptionContext: input.DestinationEncryptionContext,
          keyRef: input.DestinationKeyId,
          conditions: algorithms(input.DestinationEncryptionAlgorithm),
        }),
      ],
      state: { source, destination },
    };
  },
  handle: async (input, call, { source, destination }) => {
    let plaintext: SecretBytes;
    let sourceMaterialId: string | undefined;
    if ('symmetric' in source) {
      const opened = await call.kms.crypto.decrypt(source.symmetric, input.SourceEncryptionContext, xksCaller(call, 'ReEncrypt'));
      plaintext = opened.plaintext;
      sourceMaterialId = opened.materialId;
    } else {
      plaintext = await call.kms.asymmetric.decrypt(source.asymmetric, source.algorithm, source.ciphertext, input.SourceEncryptionContext, 'ReEncrypt');
    }
    try {
      const destinationAlgorithm = input.DestinationEncryptionAlgorithm;
      const common = {
        SourceKeyId: keyOf(source).arn,
        KeyId: destination.arn,
        SourceEncryptionAlgorithm: 'symmetric' in source ? 'SYMMETRIC_DEFAULT' : source.algorithm,
        SourceKeyMaterialId: sourceMaterialId,
      };
      if (isAsymmetric(destinationAlgorithm)) {
        const blob = await call.kms.asymmetric.encrypt(destination, destinationAlgorithm, plaintext, input.DestinationEncryptionContext, 'ReEncrypt');
        return { CiphertextBlob: blob, ...common, DestinationEncryptionAlgorithm: destinationAlgorithm };
      }
      const sealed = await call.kms.crypto.encrypt(destination, plaintext, input.DestinationEncryptionContext, 'ReEncrypt', xksCaller(call, 'ReEncrypt'));
      return { CiphertextBlob: sealed.ciphertextBlob, ...common, DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationKeyMaterialId: sealed.materialId };
    } finally {
      plaintext.wipe();
    }
  },
});
