/**
 * The keyring (src/core/crypto/root-of-trust/keyring.ts): one row holding every keyring key, wrapped by the
 * root of trust in one blob, the kind of root that wrapped it and a generation that moves on every change.
 */
export const M018_KEYRING = `
  CREATE TABLE keyring (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    root_kind TEXT NOT NULL,
    root_description TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    generation INTEGER NOT NULL,
    active_key_id INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
`;
