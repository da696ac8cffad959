import { dataKeyPairOperation } from '../data-key-pair-operation.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPairWithoutPlaintext.html */
export const GenerateDataKeyPairWithoutPlaintext = dataKeyPairOperation('GenerateDataKeyPairWithoutPlaintext', false);
