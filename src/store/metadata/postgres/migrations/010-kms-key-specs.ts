/**
 * What each KMS key is (issue 11), as SQLite's migration 014: its KeySpec, KeyUsage and Origin (botocore KMS
 * model enums) and whether it is multi-Region. Keys made before were all symmetric encryption keys made by
 * KMS, so the defaults describe them exactly.
 */
export const P010_KMS_KEY_SPECS = `
  ALTER TABLE kms_keys
    ADD COLUMN key_spec text NOT NULL DEFAULT 'SYMMETRIC_DEFAULT',
    ADD COLUMN key_usage text NOT NULL DEFAULT 'ENCRYPT_DECRYPT',
    ADD COLUMN origin text NOT NULL DEFAULT 'AWS_KMS',
    ADD COLUMN multi_region boolean NOT NULL DEFAULT false;
`;
