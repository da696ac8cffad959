/**
 * Settings, accounts, access keys and the KMS key store: SQLite's migration 001 in PostgreSQL types (times
 * and counters bigint epoch milliseconds, wrapped secrets bytea, flags boolean; policies stay text, byte for
 * byte as the caller wrote them). Identifiers and names that pages are ordered by are COLLATE "C", so that
 * ORDER BY and the `> after` markers compare bytes as SQLite does, whatever the database's locale.
 */
export const P001_KMS = `
  CREATE TABLE settings (name text COLLATE "C" PRIMARY KEY, value text NOT NULL);
  CREATE TABLE accounts (account_id text COLLATE "C" PRIMARY KEY, created_at bigint NOT NULL);
  CREATE TABLE access_keys (
    access_key_id text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL REFERENCES accounts(account_id),
    principal_arn text NOT NULL,
    principal_type text NOT NULL,
    principal_id text NOT NULL,
    secret_wrapped bytea NOT NULL,
    status text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE INDEX access_keys_account ON access_keys(account_id);
  CREATE TABLE kms_keys (
    key_id text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL,
    region text COLLATE "C" NOT NULL,
    arn text NOT NULL UNIQUE,
    description text NOT NULL,
    key_state text NOT NULL,
    key_manager text NOT NULL,
    created_at bigint NOT NULL,
    deletion_date bigint,
    pending_window_in_days integer,
    policy text NOT NULL,
    current_material_id text NOT NULL,
    rotation_enabled boolean NOT NULL,
    rotation_period_in_days integer,
    next_rotation_date bigint,
    on_demand_rotation_start_date bigint
  );
  CREATE INDEX kms_keys_scope ON kms_keys(account_id, region, key_id);
  CREATE INDEX kms_keys_deletion ON kms_keys(deletion_date) WHERE deletion_date IS NOT NULL;
  CREATE INDEX kms_keys_rotation ON kms_keys(next_rotation_date) WHERE next_rotation_date IS NOT NULL;
  CREATE TABLE kms_key_materials (
    key_id text COLLATE "C" NOT NULL REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    material_id text COLLATE "C" NOT NULL,
    wrapped bytea NOT NULL,
    created_at bigint NOT NULL,
    seq integer NOT NULL,
    rotation_type text,
    PRIMARY KEY (key_id, material_id),
    UNIQUE (key_id, seq)
  );
  CREATE TABLE kms_aliases (
    account_id text COLLATE "C" NOT NULL,
    region text COLLATE "C" NOT NULL,
    alias_name text COLLATE "C" NOT NULL,
    target_key_id text COLLATE "C" NOT NULL REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (account_id, region, alias_name)
  );
  CREATE INDEX kms_aliases_target ON kms_aliases(target_key_id);
  CREATE TABLE kms_tags (
    key_id text COLLATE "C" NOT NULL REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    tag_key text COLLATE "C" NOT NULL,
    tag_value text NOT NULL,
    PRIMARY KEY (key_id, tag_key)
  );
`;
