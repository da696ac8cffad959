/**
 * EBS-style volumes and snapshots (issue 12). ebs_chunks maps each written 64 KiB chunk of a volume or
 * snapshot (owner_id) to a record of a segment blob, with the generation its AAD binds; a snapshot shares its
 * volume's records by reference (copy-on-write: the volume's next write of a chunk goes to a new segment).
 * ebs_segments lists segment blobs before they are written, so one a crash left unreferenced is found.
 * ebs_generations hands out each owner's write counter (never reused). Data keys are JSON (WrappedDataKey).
 */
export const M016_VOLUMES = `
  CREATE TABLE ebs_volumes (
    volume_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    state TEXT NOT NULL,
    attached INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL
  ) STRICT;
  CREATE INDEX ebs_volumes_by_account ON ebs_volumes (account_id, region, volume_id);
  CREATE TABLE ebs_snapshots (
    snapshot_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    data TEXT NOT NULL
  ) STRICT;
  CREATE INDEX ebs_snapshots_by_account ON ebs_snapshots (account_id, region, snapshot_id);
  CREATE TABLE ebs_chunks (
    owner_id TEXT NOT NULL,
    chunk_index INTEGER NOT NULL,
    blob_id TEXT NOT NULL,
    slot INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    bound_to TEXT NOT NULL,
    PRIMARY KEY (owner_id, chunk_index)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX ebs_chunks_by_blob ON ebs_chunks (blob_id);
  CREATE TABLE ebs_segments (
    blob_id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL
  ) STRICT;
  CREATE INDEX ebs_segments_by_owner ON ebs_segments (owner_id);
  CREATE TABLE ebs_generations (
    owner_id TEXT PRIMARY KEY,
    next INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE ebs_defaults (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    encryption_by_default INTEGER NOT NULL,
    default_kms_key_id TEXT,
    PRIMARY KEY (account_id, region)
  ) STRICT;
  CREATE TABLE ebs_service_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    wrapped BLOB NOT NULL
  ) STRICT;
`;
