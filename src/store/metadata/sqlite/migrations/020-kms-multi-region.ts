/**
 * Multi-Region keys (issue 11): the Region of a multi-Region key's primary, the same on each related key
 * (NULL for single-Region keys). The keys of one multi-Region key share its key id, so their rows are
 * `<key id>@<region>` (types.ts#keyRowId); keys made before this migration are all single-Region.
 */
export const M020_KMS_MULTI_REGION = `
  ALTER TABLE kms_keys ADD COLUMN primary_region TEXT;
`;
