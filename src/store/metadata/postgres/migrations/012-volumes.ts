/** EBS-style volumes and snapshots (issue 12), as SQLite's migration 016. */
export const P012_VOLUMES = `
  CREATE TABLE ebs_volumes (
    volume_id text COLLATE "C" PRIMARY KEY,
    account_id text NOT NULL,
    region text NOT NULL,
    state text NOT NULL,
    attached boolean NOT NULL DEFAULT false,
    data text NOT NULL
  );
  CREATE INDEX ebs_volumes_by_account ON ebs_volumes (account_id, region, volume_id);
  CREATE TABLE ebs_snapshots (
    snapshot_id text COLLATE "C" PRIMARY KEY,
    account_id text NOT NULL,
    region text NOT NULL,
    data text NOT NULL
  );
  CREATE INDEX ebs_snapshots_by_account ON ebs_snapshots (account_id, region, snapshot_id);
  CREATE TABLE ebs_chunks (
    owner_id text COLLATE "C" NOT NULL,
    chunk_index bigint NOT NULL,
    blob_id text NOT NULL,
    slot integer NOT NULL,
    generation bigint NOT NULL,
    bound_to text NOT NULL,
    PRIMARY KEY (owner_id, chunk_index)
  );
  CREATE INDEX ebs_chunks_by_blob ON ebs_chunks (blob_id);
  CREATE TABLE ebs_segments (
    blob_id text PRIMARY KEY,
    owner_id text NOT NULL
  );
  CREATE INDEX ebs_segments_by_owner ON ebs_segments (owner_id);
  CREATE TABLE ebs_generations (
    owner_id text COLLATE "C" PRIMARY KEY,
    next bigint NOT NULL
  );
  CREATE TABLE ebs_defaults (
    account_id text NOT NULL,
    region text NOT NULL,
    encryption_by_default boolean NOT NULL,
    default_kms_key_id text,
    PRIMARY KEY (account_id, region)
  );
  CREATE TABLE ebs_service_key (
    id integer PRIMARY KEY CHECK (id = 1),
    wrapped bytea NOT NULL
  );
`;
