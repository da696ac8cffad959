/**
 * Each KMS key's last successful cryptographic use (GetKeyLastUsage), as SQLite's migration 015: one row per
 * key, written by the servers' periodic flush (src/core/kms/key-last-usage.ts) and only ever moved forward.
 */
export const P011_KMS_KEY_LAST_USAGE = `
  CREATE TABLE kms_key_last_usage (
    key_id text COLLATE "C" PRIMARY KEY REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    operation text NOT NULL,
    used_at bigint NOT NULL,
    event_id text NOT NULL,
    request_id text NOT NULL
  );
`;
