/**
 * Migration 010: the audit log as an RFC 6962 Merkle tree with signed tree heads (src/core/audit/merkle.ts,
 * tree-head.ts). audit_checkpoint.frontier: the Merkle frontier of its `seq` records (the right edge's full
 * subtree roots, 32 bytes each, largest first), moved in the same transaction as the records; NULL in a
 * data dir older than this migration until the next commit rebuilds it from the records (SQL cannot hash).
 * audit_tree_key: the Ed25519 key that signs the heads — made once, its private key wrapped by the root of
 * trust. audit_tree_heads: the signed heads, the newest always covering the last committed record.
 */
export const M010_AUDIT_TREE_HEADS = `
  ALTER TABLE audit_checkpoint ADD COLUMN frontier BLOB;

  CREATE TABLE audit_tree_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key_id TEXT NOT NULL,
    public_key BLOB NOT NULL,
    wrapped_private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE audit_tree_heads (
    id INTEGER PRIMARY KEY,
    tree_size INTEGER NOT NULL,
    root_hash BLOB NOT NULL,
    timestamp INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    signature BLOB NOT NULL
  ) STRICT;
`;
