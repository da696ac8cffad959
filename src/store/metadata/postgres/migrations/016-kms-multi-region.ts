/**
 * Multi-Region keys (issue 11), as SQLite's migration 020: the Region of a multi-Region key's primary, the
 * same on each related key (NULL for single-Region keys); related keys' rows are `<key id>@<region>`.
 */
export const P016_KMS_MULTI_REGION = `
  ALTER TABLE kms_keys ADD COLUMN primary_region text COLLATE "C";
`;
