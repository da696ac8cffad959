/** Accounts, access keys and the KMS key store. */
export const M001_INITIAL = `
  CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  CREATE TABLE accounts (account_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL) STRICT;
  CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    principal_arn TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    secret_wrapped BLOB NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX access_keys_account ON access_keys(account_id);
  CREATE TABLE kms_keys (
    key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    key_state TEXT NOT NULL,
    key_manager TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    deletion_date INTEGER,
    pending_window_in_days INTEGER,
    policy TEXT NOT NULL,
    current_material_id TEXT NOT NULL,
    rotation_enabled INTEGER NOT NULL,
    rotation_period_in_days INTEGER,
    next_rotation_date INTEGER,
    on_demand_rotation_start_date INTEGER
  ) STRICT;
  CREATE INDEX kms_keys_scope ON kms_keys(account_id, region, key_id);
  CREATE INDEX kms_keys_deletion ON kms_keys(deletion_date) WHERE deletion_date IS NOT NULL;
  CREATE INDEX kms_keys_rotation ON kms_keys(next_rotation_date) WHERE next_rotation_date IS NOT NULL;
  CREATE TABLE kms_key_materials (
    key_id TEXT NOT NULL REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    material_id TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    rotation_type TEXT,
    PRIMARY KEY (key_id, material_id)
  ) STRICT;
  CREATE UNIQUE INDEX kms_key_materials_seq ON kms_key_materials(key_id, seq);
  CREATE TABLE kms_aliases (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    alias_name TEXT NOT NULL,
    target_key_id TEXT NOT NULL REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, alias_name)
  ) STRICT;
  CREATE INDEX kms_aliases_target ON kms_aliases(target_key_id);
  CREATE TABLE kms_tags (
    key_id TEXT NOT NULL REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key)
  ) STRICT;
`;
