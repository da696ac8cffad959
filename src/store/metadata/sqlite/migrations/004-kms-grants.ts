/**
 * KMS grants (https://docs.aws.amazon.com/kms/latest/developerguide/grants.html): a grant belongs to one key
 * and goes with it. `seq` orders ListGrants/ListRetirableGrants pages (AUTOINCREMENT: never reused, so a
 * marker never skips a newer grant). `fingerprint` is the canonical form of the parameters CreateGrant's Name
 * idempotence compares. The authorization path reads grants by (key, grantee).
 */
export const M004_KMS_GRANTS = `
  CREATE TABLE kms_grants (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    grant_id TEXT NOT NULL UNIQUE,
    key_id TEXT NOT NULL REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    name TEXT,
    grantee_principal TEXT NOT NULL,
    retiring_principal TEXT,
    issuing_account_id TEXT NOT NULL,
    operations TEXT NOT NULL,
    constraints TEXT,
    fingerprint TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX kms_grants_key ON kms_grants(key_id, seq);
  CREATE INDEX kms_grants_grantee ON kms_grants(key_id, grantee_principal);
  CREATE INDEX kms_grants_name ON kms_grants(key_id, name) WHERE name IS NOT NULL;
  CREATE INDEX kms_grants_retiring ON kms_grants(retiring_principal, seq) WHERE retiring_principal IS NOT NULL;
`;
