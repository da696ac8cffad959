/**
 * CloudTrail trails, their delivery and the digest signing keys on PostgreSQL
 * (src/store/metadata/postgres/trail-store.ts, trail-delivery-store.ts), as SQLite's migrations 007 and 009.
 *
 * Types follow what the CloudTrail model and our checks let through. Trail names (checkTrailName: letters,
 * digits, . _ -), regions, ARNs, bucket names (checkBucketName), KMS key ARNs, error codes, hex hashes and
 * signatures are text; those that are ordered by (name, region, arn) are COLLATE "C", so the order is byte
 * order as in SQLite whatever the database's collation. The S3 key prefix is only limited in length
 * (checkPrefix), so it — and every object key built from it — is bytea holding its UTF-8 bytes: text cannot
 * hold U+0000. Event selectors and object metadata are JSON text (JSON.stringify escapes every control
 * character). File bodies and keys' DER are bytea.
 *
 * SQLite's cloudtrail_delivery also has last_digest_end_time and previous_digest_* columns that nothing
 * writes since migration 009 moved the digest chains to their own table; they are not carried over.
 * Delivery reads the audit log's records and head from audit_events and audit_checkpoint (the PostgreSQL
 * audit store's tables), which this migration does not create.
 */
export const P008_CLOUDTRAIL = `
  CREATE TABLE cloudtrail_trails (
    account_id text NOT NULL,
    region text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    arn text COLLATE "C" NOT NULL UNIQUE,
    s3_bucket_name text NOT NULL,
    s3_key_prefix bytea,
    sns_topic_name text,
    include_global_service_events boolean NOT NULL,
    is_multi_region_trail boolean NOT NULL,
    log_file_validation_enabled boolean NOT NULL,
    cloud_watch_logs_log_group_arn text,
    cloud_watch_logs_role_arn text,
    kms_key_id text,
    event_selectors text,
    advanced_event_selectors text,
    is_logging boolean NOT NULL DEFAULT false,
    start_logging_time bigint,
    stop_logging_time bigint,
    created_at bigint NOT NULL,
    PRIMARY KEY (account_id, region, name)
  );
  CREATE INDEX cloudtrail_trails_logging ON cloudtrail_trails (arn) WHERE is_logging;

  CREATE TABLE cloudtrail_delivery (
    trail_arn text PRIMARY KEY,
    delivered_seq bigint NOT NULL,
    last_log_delivery_time bigint,
    last_log_delivery_error text,
    last_digest_delivery_time bigint,
    last_digest_delivery_error text
  );

  CREATE TABLE cloudtrail_pending_objects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trail_arn text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('log', 'digest')),
    region text NOT NULL,
    bucket text NOT NULL,
    key bytea NOT NULL,
    body bytea NOT NULL,
    metadata text NOT NULL,
    sha256 text NOT NULL,
    oldest_event_time bigint,
    newest_event_time bigint,
    created_at bigint NOT NULL
  );
  CREATE INDEX cloudtrail_pending_objects_trail ON cloudtrail_pending_objects (trail_arn, id);

  CREATE TABLE cloudtrail_log_files (
    trail_arn text NOT NULL,
    region text NOT NULL,
    bucket text NOT NULL,
    key bytea NOT NULL,
    sha256 text NOT NULL,
    oldest_event_time bigint NOT NULL,
    newest_event_time bigint NOT NULL,
    delivered_at bigint NOT NULL,
    PRIMARY KEY (trail_arn, key)
  );

  CREATE TABLE cloudtrail_digest_chains (
    trail_arn text NOT NULL,
    region text COLLATE "C" NOT NULL,
    last_end_time bigint NOT NULL,
    bucket text,
    key bytea,
    sha256 text,
    signature text,
    PRIMARY KEY (trail_arn, region)
  );

  CREATE TABLE cloudtrail_signing_keys (
    region text NOT NULL,
    fingerprint text NOT NULL,
    public_key bytea NOT NULL,
    wrapped_private_key bytea NOT NULL,
    valid_from bigint NOT NULL,
    valid_to bigint,
    PRIMARY KEY (region, fingerprint)
  );
`;
