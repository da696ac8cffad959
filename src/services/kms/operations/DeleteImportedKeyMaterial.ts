import { keyOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteImportedKeyMaterial.html — deletes the
 * current imported material, or the one KeyMaterialId names; the key becomes PendingImport (unless pending
 * deletion) until the same material is imported again. Key ID or key ARN only.
 */
export const DeleteImportedKeyMaterial = keyOperation<{ KeyId: string; KeyMaterialId?: string }>({
  name: 'DeleteImportedKeyMaterial',
  action: 'kms:DeleteImportedKeyMaterial',
  readOnly: false,
  aliases: false,
  handle: async (input, call, key) => ({
    KeyId: key.arn,
    KeyMaterialId: await call.kms.imports.deleteMaterial(key, input.KeyMaterialId),
  }),
});
