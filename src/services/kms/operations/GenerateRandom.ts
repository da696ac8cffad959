import { randomBytes } from 'node:crypto';
import { needs } from '../../../core/errors/aws-error.js';
import { CommonErrors } from '../../../core/errors/common.js';
import { KmsErrors } from '../../../core/errors/kms.js';
import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { needsNoRecipient } from '../symmetric.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateRandom.html — 1–1024 bytes. */
export const GenerateRandom = defineOperation<KmsCall, { NumberOfBytes?: number; CustomKeyStoreId?: string; Recipient?: unknown }, undefined>({
  name: 'GenerateRandom',
  action: 'kms:GenerateRandom',
  readOnly: true,
  resolve: async () => ({ access: [onAccount('kms:GenerateRandom')], state: undefined }),
  handle: async (input) => {
    needsNoRecipient(input.Recipient);
    needs(input.CustomKeyStoreId === undefined, KmsErrors.CustomKeyStoreNotFoundException, 'Custom key stores are not supported.');
    needs(input.NumberOfBytes !== undefined, CommonErrors.ValidationException, 'Please specify the number of bytes.');
    return { Plaintext: SecretBytes.adopt(randomBytes(input.NumberOfBytes)) };
  },
});
