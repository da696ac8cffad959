/**
 * The audit log's LookupEvents indexes, newest first by event time, and CloudTrail trails.
 *
 * LookupEvents returns events newest first by time (ties: by sequence number). 006 indexed each attribute
 * with `seq`, which answers an attribute lookup quickly but makes a time window, or no attribute at all,
 * sort every matching row (hundreds of milliseconds over a million records: bench/audit.ts). Here each
 * attribute index ends with `event_time` (and, implicitly, the rowid `seq`), so every lookup — attribute,
 * time window, both, or neither — is one backwards index range scan that stops after a page.
 * audit_resources gets the event's time for the same reason.
 *
 * cloudtrail_trails: one row per trail (CreateTrail), its settings as the API shows them, event selectors
 * as JSON, and whether it is logging. cloudtrail_delivery: how far each trail's delivery got (the last
 * record sequence number delivered in a log file, the last digest's end time and signature, so a restart
 * neither loses nor repeats a file); cloudtrail_log_files: the log files delivered since the trail's last
 * digest file (the next digest lists them). cloudtrail_signing_keys: the digest signing key pair of a
 * region — the private key only wrapped by the root of trust.
 */
export const M007_AUDIT_LOOKUP_AND_TRAILS = `
  DROP INDEX audit_events_name;
  DROP INDEX audit_events_source;
  DROP INDEX audit_events_read_only;
  DROP INDEX audit_events_username;
  DROP INDEX audit_events_access_key;
  CREATE INDEX audit_events_name_time ON audit_events(account_id, event_name, event_time);
  CREATE INDEX audit_events_source_time ON audit_events(account_id, event_source, event_time);
  CREATE INDEX audit_events_read_only_time ON audit_events(account_id, read_only, event_time);
  CREATE INDEX audit_events_username_time ON audit_events(account_id, username, event_time);
  CREATE INDEX audit_events_access_key_time ON audit_events(account_id, access_key_id, event_time);

  ALTER TABLE audit_resources ADD COLUMN event_time INTEGER NOT NULL DEFAULT 0;
  UPDATE audit_resources SET event_time = (SELECT e.event_time FROM audit_events e WHERE e.seq = audit_resources.seq);
  DROP INDEX audit_resources_type;
  DROP INDEX audit_resources_name;
  CREATE INDEX audit_resources_type_time ON audit_resources(account_id, type, event_time, seq);
  CREATE INDEX audit_resources_name_time ON audit_resources(account_id, name, event_time, seq);

  CREATE TABLE cloudtrail_trails (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    s3_bucket_name TEXT NOT NULL,
    s3_key_prefix TEXT,
    sns_topic_name TEXT,
    include_global_service_events INTEGER NOT NULL,
    is_multi_region_trail INTEGER NOT NULL,
    log_file_validation_enabled INTEGER NOT NULL,
    cloud_watch_logs_log_group_arn TEXT,
    cloud_watch_logs_role_arn TEXT,
    kms_key_id TEXT,
    event_selectors TEXT,
    advanced_event_selectors TEXT,
    is_logging INTEGER NOT NULL DEFAULT 0,
    start_logging_time INTEGER,
    stop_logging_time INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, name)
  ) STRICT;

  CREATE TABLE cloudtrail_delivery (
    trail_arn TEXT PRIMARY KEY,
    delivered_seq INTEGER NOT NULL,
    last_log_delivery_time INTEGER,
    last_log_delivery_error TEXT,
    last_digest_end_time INTEGER,
    last_digest_delivery_time INTEGER,
    last_digest_delivery_error TEXT,
    previous_digest_signature TEXT,
    previous_digest_bucket TEXT,
    previous_digest_key TEXT,
    previous_digest_hash TEXT
  ) STRICT;

  CREATE TABLE cloudtrail_log_files (
    trail_arn TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    oldest_event_time INTEGER NOT NULL,
    newest_event_time INTEGER NOT NULL,
    delivered_at INTEGER NOT NULL,
    PRIMARY KEY (trail_arn, key)
  ) STRICT;

  CREATE TABLE cloudtrail_signing_keys (
    region TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key BLOB NOT NULL,
    wrapped_private_key BLOB NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER,
    PRIMARY KEY (region, fingerprint)
  ) STRICT;
`;
