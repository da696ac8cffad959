import { dataKeyPairOperation } from '../data-key-pair-operation.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html */
export const GenerateDataKeyPair = dataKeyPairOperation('GenerateDataKeyPair', true);
