/**
 * External key stores (issue 13): custom key stores (their connection state, shared by every process on the
 * database; the proxy secret wrapped by the root of trust, inside `data`) and the KMS keys of Origin
 * EXTERNAL_KEY_STORE with their external key id, unique per store. kms_xks_keys has no foreign key to kms_keys:
 * the association is reserved before the key is created (see CustomKeyStoreStore.reserveXksKey).
 */
export const M019_KMS_CUSTOM_KEY_STORES = `
  CREATE TABLE kms_custom_key_stores (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    uri TEXT NOT NULL,
    data TEXT NOT NULL
  ) STRICT;
  CREATE UNIQUE INDEX kms_custom_key_stores_name ON kms_custom_key_stores(account_id, region, name);
  CREATE UNIQUE INDEX kms_custom_key_stores_uri ON kms_custom_key_stores(account_id, region, uri);
  CREATE TABLE kms_xks_keys (
    key_id TEXT PRIMARY KEY,
    custom_key_store_id TEXT NOT NULL,
    xks_key_id TEXT NOT NULL
  ) STRICT;
  CREATE UNIQUE INDEX kms_xks_keys_external ON kms_xks_keys(custom_key_store_id, xks_key_id);
`;
