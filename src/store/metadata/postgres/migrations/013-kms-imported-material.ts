/**
 * Imported key material (issue 11), as SQLite's migration 017: keys of Origin EXTERNAL carry their current
 * material's ExpirationModel and ValidTo and the earliest ValidTo of any material still imported; each
 * imported material its ImportState, PENDING_ROTATION flag, expiration and KeyMaterialDescription; and each
 * key its latest GetParametersForImport (the RSA wrapping private key wrapped by the root of trust).
 */
export const P013_KMS_IMPORTED_MATERIAL = `
  ALTER TABLE kms_keys
    ADD COLUMN expiration_model text,
    ADD COLUMN valid_to bigint,
    ADD COLUMN material_expires_at bigint;
  CREATE INDEX kms_keys_material_expires_at ON kms_keys(material_expires_at) WHERE material_expires_at IS NOT NULL;
  ALTER TABLE kms_key_materials
    ADD COLUMN import_state text,
    ADD COLUMN pending_rotation boolean NOT NULL DEFAULT false,
    ADD COLUMN expiration_model text,
    ADD COLUMN valid_to bigint,
    ADD COLUMN description text;
  CREATE TABLE kms_import_parameters (
    key_id text COLLATE "C" PRIMARY KEY REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    token_id text NOT NULL,
    wrapping_algorithm text NOT NULL,
    wrapping_key_spec text NOT NULL,
    private_key_wrapped bytea NOT NULL,
    created_at bigint NOT NULL,
    valid_to bigint NOT NULL
  );
`;
