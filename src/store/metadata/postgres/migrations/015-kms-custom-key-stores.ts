/** External key stores (issue 13), as SQLite's migration 019. */
export const P015_KMS_CUSTOM_KEY_STORES = `
  CREATE TABLE kms_custom_key_stores (
    id text COLLATE "C" PRIMARY KEY,
    account_id text NOT NULL,
    region text NOT NULL,
    name text NOT NULL,
    uri text NOT NULL,
    data text NOT NULL
  );
  CREATE UNIQUE INDEX kms_custom_key_stores_name ON kms_custom_key_stores(account_id, region, name);
  CREATE UNIQUE INDEX kms_custom_key_stores_uri ON kms_custom_key_stores(account_id, region, uri);
  CREATE TABLE kms_xks_keys (
    key_id text COLLATE "C" PRIMARY KEY,
    custom_key_store_id text NOT NULL,
    xks_key_id text NOT NULL
  );
  CREATE UNIQUE INDEX kms_xks_keys_external ON kms_xks_keys(custom_key_store_id, xks_key_id);
`;
