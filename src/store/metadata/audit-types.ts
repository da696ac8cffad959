import { AuditSink } from '../../core/audit/audit-log.js';
import { AuditReader } from '../../core/audit/lookup.js';
import { TreeHeadKeyStore } from '../../core/audit/tree-head-key.js';
import { StoredCheckpoint, StoredLink, StoredTreeHead } from '../../core/audit/verify.js';

/**
 * How much history of signed tree heads is kept: every commit signs a head covering it, but a new row is
 * added only when the newest row is from an earlier minute of wall-clock time; otherwise the commit's head
 * replaces it. A row per commit would be hundreds per second under load (gigabytes a day) for little more
 * evidence: each kept head still pins its whole prefix, and the newest always covers the last record.
 */
export const TREE_HEAD_RETENTION_MS = 60_000;

/** The committed log as `strongroom audit verify` checks it: checkpoint, records in order, kept signed tree heads. */
export interface AuditLogView {
  /** The log head (seq, hash, Merkle frontier) as last committed; undefined before the first commit. */
  checkpoint(): Promise<StoredCheckpoint | undefined>;
  /** Up to `limit` records with a sequence number above `afterSeq`, in sequence order. */
  links(afterSeq: number, limit: number): Promise<StoredLink[]>;
  /** Every kept signed tree head, in the order they were written. */
  treeHeads(): Promise<StoredTreeHead[]>;
  /** How many records the log holds (rows, whatever their sequence numbers). */
  recordCount(): Promise<number>;
}

export interface AuditLogSource extends AuditLogView {
  /**
   * Runs `read` on one snapshot of the committed log: all its reads see the log as it was at one instant,
   * whatever is committed meanwhile — a running server's commits (records, checkpoint and head written
   * together) must not look like records behind the checkpoint's back or heads beyond the log. Writes nothing
   * and holds no lock a commit waits for. A record read is a page of `links`: the log is never held whole.
   */
  readSnapshot<T>(read: (log: AuditLogView) => Promise<T>): Promise<T>;
}

/**
 * The audit log's store: the sink AuditLog commits to, the LookupEvents index, the audit signing key and
 * the log as verification reads it. Implementations run test/contract/audit-store.contract.ts.
 */
export interface AuditStore extends AuditSink, AuditReader, TreeHeadKeyStore, AuditLogSource {}
