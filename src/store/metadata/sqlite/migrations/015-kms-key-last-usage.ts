/**
 * Each KMS key's last successful cryptographic use (GetKeyLastUsage): one row per key, written by the servers'
 * periodic flush of what they saw (src/core/kms/key-last-usage.ts) and only ever moved forward in time.
 */
export const M015_KMS_KEY_LAST_USAGE = `
  CREATE TABLE kms_key_last_usage (
    key_id TEXT PRIMARY KEY REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    operation TEXT NOT NULL,
    used_at INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    request_id TEXT NOT NULL
  );
`;
