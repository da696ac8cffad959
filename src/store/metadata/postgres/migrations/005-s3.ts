/**
 * The S3 object store's metadata on PostgreSQL (src/store/metadata/postgres/s3-store.ts), as SQLite's
 * migration 008. Bucket names, object keys, version ids and upload ids are bytea holding their UTF-8 bytes:
 * text cannot hold U+0000, which object keys may contain, and bytea compares byte by byte, the order S3 lists
 * keys in (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ListingKeysUsingAPIs.html) whatever the
 * database's collation. JSON columns are text, not jsonb: JSON.stringify escapes every control character,
 * and jsonb refuses the escape \u0000 that a metadata value may need.
 *
 * At most one latest version per key (s3_versions_one_latest): the store serialises the writers of a key
 * with an advisory lock, and the index makes a second latest impossible even if it did not.
 */
export const P005_S3 = `
  CREATE TABLE s3_buckets (
    name bytea PRIMARY KEY,
    account_id text NOT NULL,
    region text NOT NULL,
    created_at bigint NOT NULL,
    versioning text,
    encryption text,
    policy bytea
  );
  CREATE INDEX s3_buckets_account ON s3_buckets (account_id, name);

  CREATE TABLE s3_versions (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket bytea NOT NULL REFERENCES s3_buckets (name),
    key bytea NOT NULL,
    version_id bytea NOT NULL,
    is_latest boolean NOT NULL,
    delete_marker boolean NOT NULL,
    data text NOT NULL,
    UNIQUE (bucket, key, version_id)
  );
  CREATE UNIQUE INDEX s3_versions_one_latest ON s3_versions (bucket, key) WHERE is_latest;
  CREATE INDEX s3_versions_key ON s3_versions (bucket, key, seq);

  CREATE TABLE s3_uploads (
    upload_id bytea PRIMARY KEY,
    bucket bytea NOT NULL REFERENCES s3_buckets (name),
    key bytea NOT NULL,
    initiated bigint NOT NULL,
    data text NOT NULL
  );
  CREATE INDEX s3_uploads_key ON s3_uploads (bucket, key, upload_id);

  CREATE TABLE s3_parts (
    upload_id bytea NOT NULL REFERENCES s3_uploads (upload_id) ON DELETE CASCADE,
    part_number integer NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  );

  CREATE TABLE s3_service_key (
    id integer PRIMARY KEY CHECK (id = 1),
    wrapped bytea NOT NULL
  );
`;
