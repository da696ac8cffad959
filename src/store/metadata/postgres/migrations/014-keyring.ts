/** The keyring, as SQLite's migration 018: one row, every keyring key wrapped by the root of trust in one blob. */
export const P014_KEYRING = `
  CREATE TABLE keyring (
    id smallint PRIMARY KEY CHECK (id = 1),
    root_kind text NOT NULL,
    root_description text NOT NULL,
    wrapped bytea NOT NULL,
    generation bigint NOT NULL,
    active_key_id bigint NOT NULL,
    updated_at bigint NOT NULL
  );
`;
