import { AuditSink } from '../../core/audit/audit-log.js';
import { AuditReader } from '../../core/audit/lookup.js';
import { TreeHeadKeyStore } from '../../core/audit/tree-head-key.js';
import { StoredCheckpoint, StoredLink, StoredTreeHead } from '../../core/audit/verify.js';

/** The committed log as `strongroom audit verify` checks it: checkpoint, records in order, kept signed tree heads. */
export interface AuditLogSource {
  /** The log head (seq, hash, Merkle frontier) as last committed; undefined before the first commit. */
  checkpoint(): Promise<StoredCheckpoint | undefined>;
  /** Up to `limit` records with a sequence number above `afterSeq`, in sequence order. */
  links(afterSeq: number, limit: number): Promise<StoredLink[]>;
  /** Every kept signed tree head, in the order they were written. */
  treeHeads(): Promise<StoredTreeHead[]>;
}

/**
 * The audit log's store: the sink AuditLog commits to, the LookupEvents index, the audit signing key and
 * the log as verification reads it. Implementations run test/contract/audit-store.contract.ts.
 */
export interface AuditStore extends AuditSink, AuditReader, TreeHeadKeyStore, AuditLogSource {}
