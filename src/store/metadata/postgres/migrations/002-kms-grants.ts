/**
 * KMS grants: SQLite's migration 004 in PostgreSQL types. `seq` (an identity, never reused) orders
 * ListGrants/ListRetirableGrants pages. Operations and constraints are `json`, which keeps the text as written
 * (jsonb would reorder an encryption context's keys). The authorization path reads by (key, grantee).
 */
export const P002_KMS_GRANTS = `
  CREATE TABLE kms_grants (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grant_id text COLLATE "C" NOT NULL UNIQUE,
    key_id text COLLATE "C" NOT NULL REFERENCES kms_keys(key_id) ON DELETE CASCADE,
    name text COLLATE "C",
    grantee_principal text COLLATE "C" NOT NULL,
    retiring_principal text COLLATE "C",
    issuing_account_id text NOT NULL,
    operations json NOT NULL,
    constraints json,
    fingerprint text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE INDEX kms_grants_key ON kms_grants(key_id, seq);
  CREATE INDEX kms_grants_grantee ON kms_grants(key_id, grantee_principal);
  CREATE INDEX kms_grants_name ON kms_grants(key_id, name) WHERE name IS NOT NULL;
  CREATE INDEX kms_grants_retiring ON kms_grants(retiring_principal, seq) WHERE retiring_principal IS NOT NULL;
`;
