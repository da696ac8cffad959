/**
 * The S3 object store's metadata. Object keys compare as BLOBs of their UTF-8 bytes, the order S3 lists
 * them in (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ListingKeysUsingAPIs.html). A version's
 * row carries its encryption (sealed key, never the key) and its parts (blob ids) as JSON; `seq` orders
 * versions newest first. s3_service_key holds the SSE-S3 service key, wrapped by the root of trust.
 * small_blobs holds small sealed bodies (src/store/blob/sqlite), committed in groups instead of one file
 * and two fsyncs each.
 */
export const M008_S3 = `
  CREATE TABLE s3_buckets (
    name TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    versioning TEXT,
    encryption TEXT,
    policy TEXT
  ) STRICT;
  CREATE INDEX s3_buckets_account ON s3_buckets(account_id, name);

  CREATE TABLE s3_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL REFERENCES s3_buckets(name),
    key BLOB NOT NULL,
    version_id TEXT NOT NULL,
    is_latest INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (bucket, key, version_id)
  ) STRICT;
  CREATE INDEX s3_versions_latest ON s3_versions(bucket, is_latest, key);
  CREATE INDEX s3_versions_key ON s3_versions(bucket, key, seq);

  CREATE TABLE s3_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES s3_buckets(name),
    key BLOB NOT NULL,
    initiated INTEGER NOT NULL,
    data TEXT NOT NULL
  ) STRICT;
  CREATE INDEX s3_uploads_key ON s3_uploads(bucket, key, upload_id);

  CREATE TABLE s3_parts (
    upload_id TEXT NOT NULL REFERENCES s3_uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  ) STRICT;

  CREATE TABLE small_blobs (
    id TEXT PRIMARY KEY,
    data BLOB NOT NULL
  ) STRICT;

  CREATE TABLE s3_service_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    wrapped BLOB NOT NULL
  ) STRICT;
`;
