/**
 * Object bodies (sealed packages) on PostgreSQL (src/store/blob/postgres/postgres-blob-store.ts), so that
 * every node can serve every object. A blob is one row of `blobs` and its bytes are rows of `blob_chunks`
 * (chunk n holds bytes [n·chunk_bytes, (n+1)·chunk_bytes)), so that neither a write nor a ranged read ever
 * holds a whole large object. `state`: 'writing' while its writer streams chunks in (invisible to readers),
 * 'committed' once published (one UPDATE: atomic), 'deleted' until a grace period lets readers that already
 * opened it finish; `touched_at` (epoch ms) dates the last change, for the sweep of both.
 */
export const P007_BLOBS = `
  CREATE TABLE blobs (
    id uuid PRIMARY KEY,
    state text NOT NULL CHECK (state IN ('writing', 'committed', 'deleted')),
    size bigint NOT NULL,
    chunk_bytes integer NOT NULL CHECK (chunk_bytes > 0),
    touched_at bigint NOT NULL
  );
  CREATE INDEX blobs_state ON blobs (state, touched_at);

  CREATE TABLE blob_chunks (
    blob_id uuid NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    n integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (blob_id, n)
  );
`;
