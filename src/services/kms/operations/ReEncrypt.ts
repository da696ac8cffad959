import { Located } from '../../../core/kms/cryptography.js';
import { KeyRecord } from '../../../store/metadata/types.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onKey } from '../call.js';
import { needsCiphertextBlob } from '../ciphertext-input.js';
import { needsSymmetricAlgorithm } from '../symmetric.js';

interface Input {
  CiphertextBlob?: Buffer;
  SourceEncryptionContext?: Record<string, string>;
  SourceKeyId?: string;
  DestinationKeyId: string;
  DestinationEncryptionContext?: Record<string, string>;
  SourceEncryptionAlgorithm?: string;
  DestinationEncryptionAlgorithm?: string;
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html
 * Needs kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination key.
 * The plaintext never leaves the server.
 */
export const ReEncrypt = defineOperation<KmsCall, Input, { source: Located; destination: KeyRecord }>({
  name: 'ReEncrypt',
  action: 'kms:ReEncrypt*',
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  resolve: async (input, call) => {
    needsSymmetricAlgorithm(input.SourceEncryptionAlgorithm);
    needsSymmetricAlgorithm(input.DestinationEncryptionAlgorithm);
    needsCiphertextBlob(input.CiphertextBlob);
    const source = await call.kms.crypto.locate(call.scope, input.CiphertextBlob, input.SourceKeyId);
    const destination = await call.kms.resolver.resolve(call.scope, input.DestinationKeyId, { aliases: true });
    return {
      access: [
        onKey(source.key, 'kms:ReEncryptFrom', { encryptionContext: input.SourceEncryptionContext, keyRef: input.SourceKeyId }),
        onKey(destination, 'kms:ReEncryptTo', { encryptionContext: input.DestinationEncryptionContext, keyRef: input.DestinationKeyId }),
      ],
      state: { source, destination },
    };
  },
  handle: async (input, call, { source, destination }) => {
    const opened = await call.kms.crypto.decrypt(source, input.SourceEncryptionContext);
    try {
      const sealed = await call.kms.crypto.encrypt(destination, opened.plaintext, input.DestinationEncryptionContext, 'ReEncrypt');
      return {
        CiphertextBlob: sealed.ciphertextBlob,
        SourceKeyId: source.key.arn,
        KeyId: destination.arn,
        SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        SourceKeyMaterialId: opened.materialId,
        DestinationKeyMaterialId: sealed.materialId,
      };
    } finally {
      opened.plaintext.wipe();
    }
  },
});
