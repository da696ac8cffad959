/**
 * The LookupEvents indexes cover management events only. Data events (S3 object-level calls) are in the
 * hash chain and the Merkle tree but LookupEvents never shows them, as AWS; they are stored with an empty
 * lookup account (audit-store.ts), and here every lookup index becomes partial on a non-empty account, so an
 * S3 PUT no longer pays seven index insertions for a record nobody can look up. Same names, same columns:
 * the queries name them (INDEXED BY) and state `account_id <> ''` so SQLite may use them.
 */
export const M011_AUDIT_LOOKUP_PARTIAL = `
  DROP INDEX audit_events_time;
  CREATE INDEX audit_events_time ON audit_events(account_id, event_time) WHERE account_id <> '';
  DROP INDEX audit_events_id;
  CREATE INDEX audit_events_id ON audit_events(event_id) WHERE account_id <> '';
  DROP INDEX audit_events_name_time;
  CREATE INDEX audit_events_name_time ON audit_events(account_id, event_name, event_time) WHERE account_id <> '';
  DROP INDEX audit_events_source_time;
  CREATE INDEX audit_events_source_time ON audit_events(account_id, event_source, event_time) WHERE account_id <> '';
  DROP INDEX audit_events_read_only_time;
  CREATE INDEX audit_events_read_only_time ON audit_events(account_id, read_only, event_time) WHERE account_id <> '';
  DROP INDEX audit_events_username_time;
  CREATE INDEX audit_events_username_time ON audit_events(account_id, username, event_time) WHERE account_id <> '';
  DROP INDEX audit_events_access_key_time;
  CREATE INDEX audit_events_access_key_time ON audit_events(account_id, access_key_id, event_time) WHERE account_id <> '';
`;
