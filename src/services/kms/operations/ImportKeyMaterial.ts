import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { ExpirationModel } from '../../../store/metadata/types.js';
import { keyOperation } from '../call.js';

interface Input {
  KeyId: string;
  ImportToken: Buffer | SecretBytes;
  EncryptedKeyMaterial: Buffer | SecretBytes;
  ValidTo?: Date;
  ExpirationModel?: ExpirationModel;
  ImportType?: 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL';
  KeyMaterialDescription?: string;
  KeyMaterialId?: string;
}

const bytes = (b: Buffer | SecretBytes): Buffer => (b instanceof SecretBytes ? b.reveal() : b);

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ImportKeyMaterial.html — imports or reimports key
 * material wrapped under the public key of GetParametersForImport (src/core/kms/imports/). Key ID or key ARN
 * only. The import token and the wrapped material are blobs, never recorded in CloudTrail.
 */
export const ImportKeyMaterial = keyOperation<Input>({
  name: 'ImportKeyMaterial',
  action: 'kms:ImportKeyMaterial',
  readOnly: false,
  aliases: false,
  // kms:ExpirationModel, and kms:ValidTo in epoch seconds when the material expires
  // (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-valid-to).
  conditions: (input) => ({
    'kms:ExpirationModel': input.ExpirationModel ?? 'KEY_MATERIAL_EXPIRES',
    ...(input.ValidTo !== undefined ? { 'kms:ValidTo': String(input.ValidTo.getTime() / 1000) } : {}),
  }),
  handle: async (input, call, key) => {
    const r = await call.kms.imports.importMaterial(key, {
      importToken: bytes(input.ImportToken),
      encryptedKeyMaterial: bytes(input.EncryptedKeyMaterial),
      expirationModel: input.ExpirationModel,
      validTo: input.ValidTo?.getTime(),
      importType: input.ImportType,
      keyMaterialDescription: input.KeyMaterialDescription,
      keyMaterialId: input.KeyMaterialId,
    });
    return { KeyId: key.arn, KeyMaterialId: r.materialId };
  },
});
