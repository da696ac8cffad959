/**
 * The audit log: one row per CloudTrail-format record, gap-free `seq`, `hash` = the hash chain's link
 * (see src/core/audit/record.ts), `record` = the canonical JSON that was hashed. The other columns are the
 * LookupEvents attributes, indexed per account and newest first (seq DESC). audit_resources holds the
 * record's resources (ResourceType / ResourceName lookups). audit_checkpoint is the latest (seq, hash),
 * written in the same transaction as the records, so a truncated tail is detectable.
 */
export const M006_AUDIT = `
  CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    record TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_time INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    event_name TEXT NOT NULL,
    event_source TEXT NOT NULL,
    read_only TEXT NOT NULL,
    username TEXT NOT NULL,
    access_key_id TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_events_time ON audit_events(account_id, event_time);
  CREATE INDEX audit_events_id ON audit_events(event_id);
  CREATE INDEX audit_events_name ON audit_events(account_id, event_name, seq);
  CREATE INDEX audit_events_source ON audit_events(account_id, event_source, seq);
  CREATE INDEX audit_events_read_only ON audit_events(account_id, read_only, seq);
  CREATE INDEX audit_events_username ON audit_events(account_id, username, seq);
  CREATE INDEX audit_events_access_key ON audit_events(account_id, access_key_id, seq);

  CREATE TABLE audit_resources (
    seq INTEGER NOT NULL REFERENCES audit_events(seq),
    account_id TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_resources_type ON audit_resources(account_id, type, seq);
  CREATE INDEX audit_resources_name ON audit_resources(account_id, name, seq);

  CREATE TABLE audit_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;
`;
