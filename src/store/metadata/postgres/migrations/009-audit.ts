/**
 * The audit log on PostgreSQL (src/store/metadata/postgres/audit-store.ts), as SQLite's migrations 006, 007,
 * 010 and 011 together. audit_events: one row per record, gap-free `seq`, `hash` the chain link, `record`
 * the canonical JSON that was hashed (JSON.stringify escapes every control character, so text holds it), and
 * the LookupEvents attributes. Every lookup index ends with (event_time, seq), so each LookupEvents query —
 * attribute, time window, both or neither — is one backwards index range scan that stops after a page; the
 * indexes are partial on a non-empty lookup account, as SQLite's 011 (data events are in the chain, never
 * looked up). Lookup columns are COLLATE "C": compared for equality only, byte for byte, whatever the
 * database's collation.
 *
 * audit_checkpoint exists from the start at the genesis head (seq 0, the genesis hash of record.ts, an empty
 * Merkle frontier): every append locks this one row (SELECT … FOR UPDATE), so the appends of every node
 * serialise into one chain — a row that does not exist yet could not be locked.
 */
export const P009_AUDIT = `
  CREATE TABLE audit_events (
    seq bigint PRIMARY KEY,
    hash text NOT NULL,
    record text NOT NULL,
    event_id text COLLATE "C" NOT NULL,
    event_time bigint NOT NULL,
    account_id text COLLATE "C" NOT NULL,
    event_name text COLLATE "C" NOT NULL,
    event_source text COLLATE "C" NOT NULL,
    read_only text COLLATE "C" NOT NULL,
    username text COLLATE "C" NOT NULL,
    access_key_id text COLLATE "C" NOT NULL
  );
  CREATE INDEX audit_events_time ON audit_events (account_id, event_time, seq) WHERE account_id <> '';
  CREATE INDEX audit_events_id ON audit_events (event_id) WHERE account_id <> '';
  CREATE INDEX audit_events_name_time ON audit_events (account_id, event_name, event_time, seq) WHERE account_id <> '';
  CREATE INDEX audit_events_source_time ON audit_events (account_id, event_source, event_time, seq) WHERE account_id <> '';
  CREATE INDEX audit_events_read_only_time ON audit_events (account_id, read_only, event_time, seq) WHERE account_id <> '';
  CREATE INDEX audit_events_username_time ON audit_events (account_id, username, event_time, seq) WHERE account_id <> '';
  CREATE INDEX audit_events_access_key_time ON audit_events (account_id, access_key_id, event_time, seq) WHERE account_id <> '';

  CREATE TABLE audit_resources (
    seq bigint NOT NULL REFERENCES audit_events (seq),
    account_id text COLLATE "C" NOT NULL,
    type text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    event_time bigint NOT NULL
  );
  CREATE INDEX audit_resources_type_time ON audit_resources (account_id, type, event_time, seq);
  CREATE INDEX audit_resources_name_time ON audit_resources (account_id, name, event_time, seq);

  CREATE TABLE audit_checkpoint (
    id integer PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL,
    hash text NOT NULL,
    frontier bytea NOT NULL
  );
  INSERT INTO audit_checkpoint (id, seq, hash, frontier) VALUES (1, 0, repeat('0', 64), ''::bytea);

  CREATE TABLE audit_tree_key (
    id integer PRIMARY KEY CHECK (id = 1),
    key_id text NOT NULL,
    public_key bytea NOT NULL,
    wrapped_private_key bytea NOT NULL,
    created_at bigint NOT NULL
  );

  CREATE TABLE audit_tree_heads (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tree_size bigint NOT NULL,
    root_hash bytea NOT NULL,
    timestamp bigint NOT NULL,
    key_id text NOT NULL,
    signature bytea NOT NULL
  );
`;
