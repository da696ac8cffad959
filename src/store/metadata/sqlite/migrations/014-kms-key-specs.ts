/**
 * What each KMS key is (issue 11): its KeySpec, KeyUsage and Origin (botocore KMS model enums) and whether it
 * is multi-Region. Keys made before this migration were all symmetric encryption keys made by KMS, so the
 * defaults describe them exactly.
 */
export const M014_KMS_KEY_SPECS = `
  ALTER TABLE kms_keys ADD COLUMN key_spec TEXT NOT NULL DEFAULT 'SYMMETRIC_DEFAULT';
  ALTER TABLE kms_keys ADD COLUMN key_usage TEXT NOT NULL DEFAULT 'ENCRYPT_DECRYPT';
  ALTER TABLE kms_keys ADD COLUMN origin TEXT NOT NULL DEFAULT 'AWS_KMS';
  ALTER TABLE kms_keys ADD COLUMN multi_region INTEGER NOT NULL DEFAULT 0;
`;
