/**
 * Imported key material (issue 11): keys of Origin EXTERNAL carry their current material's ExpirationModel and
 * ValidTo and the earliest ValidTo of any material still imported (the lifecycle deletes it then); each
 * imported material its ImportState, PENDING_ROTATION flag, expiration and KeyMaterialDescription; and each
 * key its latest GetParametersForImport (the RSA wrapping private key wrapped by the root of trust).
 * Materials KMS made keep import_state NULL.
 */
export const M017_KMS_IMPORTED_MATERIAL = `
  ALTER TABLE kms_keys ADD COLUMN expiration_model TEXT;
  ALTER TABLE kms_keys ADD COLUMN valid_to INTEGER;
  ALTER TABLE kms_keys ADD COLUMN material_expires_at INTEGER;
  CREATE INDEX kms_keys_material_expires_at ON kms_keys(material_expires_at) WHERE material_expires_at IS NOT NULL;
  ALTER TABLE kms_key_materials ADD COLUMN import_state TEXT;
  ALTER TABLE kms_key_materials ADD COLUMN pending_rotation INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE kms_key_materials ADD COLUMN expiration_model TEXT;
  ALTER TABLE kms_key_materials ADD COLUMN valid_to INTEGER;
  ALTER TABLE kms_key_materials ADD COLUMN description TEXT;
  CREATE TABLE kms_import_parameters (
    key_id TEXT PRIMARY KEY REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    token_id TEXT NOT NULL,
    wrapping_algorithm TEXT NOT NULL,
    wrapping_key_spec TEXT NOT NULL,
    private_key_wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    valid_to INTEGER NOT NULL
  ) STRICT;
`;
