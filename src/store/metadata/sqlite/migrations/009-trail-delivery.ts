/**
 * Migration 009: what trail delivery needs beyond migration 007's tables.
 * cloudtrail_pending_objects: the log and digest files a trail decided to write and has not yet written —
 * their exact bytes, planned in the same transaction that moves the trail's delivered sequence number (or its
 * digest chain), so a crash or a refusing bucket neither loses a file nor makes a second, different one: the
 * same key gets the same bytes when it is retried. cloudtrail_digest_chains: per trail and region (a
 * multi-region trail has one chain per region), the last digest: its end time, location, hash and signature.
 * cloudtrail_log_files.region: which chain lists a delivered log file.
 */
export const M009_TRAIL_DELIVERY = `
  CREATE TABLE cloudtrail_pending_objects (
    id INTEGER PRIMARY KEY,
    trail_arn TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('log', 'digest')),
    region TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    body BLOB NOT NULL,
    metadata TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    oldest_event_time INTEGER,
    newest_event_time INTEGER,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX cloudtrail_pending_objects_trail ON cloudtrail_pending_objects(trail_arn, id);

  CREATE TABLE cloudtrail_digest_chains (
    trail_arn TEXT NOT NULL,
    region TEXT NOT NULL,
    last_end_time INTEGER NOT NULL,
    bucket TEXT,
    key TEXT,
    sha256 TEXT,
    signature TEXT,
    PRIMARY KEY (trail_arn, region)
  ) STRICT;

  ALTER TABLE cloudtrail_log_files ADD COLUMN region TEXT NOT NULL DEFAULT '';
`;
