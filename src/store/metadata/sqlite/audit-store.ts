import Database from 'better-sqlite3';
import { AuditCommit, LogHead } from '../../../core/audit/audit-log.js';
import { LookupKey, LookupQuery, StoredEvent } from '../../../core/audit/lookup.js';
import { MerkleFrontier, leafHash } from '../../../core/audit/merkle.js';
import { GENESIS_HASH, lookupAccessKeyId, lookupUsername } from '../../../core/audit/record.js';
import { StoredTreeHeadKey } from '../../../core/audit/tree-head-key.js';
import { StoredCheckpoint, StoredLink, StoredTreeHead } from '../../../core/audit/verify.js';
import { AuditLogView, AuditStore, TREE_HEAD_RETENTION_MS } from '../audit-types.js';
import { SqliteDatabase } from './database.js';

/**
 * The column each LookupEvents attribute filters on, and the index (migration 007) that answers it in
 * (event_time, seq) order. Named with INDEXED BY: without statistics SQLite may prefer the time index and
 * scan a whole window for a rare attribute value.
 */
const EVENT_COLUMNS: Record<Exclude<LookupKey, 'ResourceType' | 'ResourceName'>, { column: string; index: string }> = {
  EventId: { column: 'event_id', index: 'audit_events_id' },
  EventName: { column: 'event_name', index: 'audit_events_name_time' },
  ReadOnly: { column: 'read_only', index: 'audit_events_read_only_time' },
  Username: { column: 'username', index: 'audit_events_username_time' },
  EventSource: { column: 'event_source', index: 'audit_events_source_time' },
  AccessKeyId: { column: 'access_key_id', index: 'audit_events_access_key_time' },
};


/**
 * The audit log in the metadata database (migrations 006, 007, 010): the durable sink, the LookupEvents
 * index and the audit signing key.
 */
export class SqliteAuditStore implements AuditStore {
  constructor(private readonly database: SqliteDatabase) {}

  durable(): Promise<void> {
    return this.database.durable();
  }

  /** One synchronous BEGIN IMMEDIATE transaction (resolved at once; made durable by durable()). */
  async append(build: (head: LogHead) => AuditCommit): Promise<void> {
    const d = this.database;
    // Every request appends: with several processes on the file, waiting for the lock must not block the loop.
    await d.transactionYielding(() => {
      const cp = d.stmt('SELECT seq, hash, frontier FROM audit_checkpoint WHERE id = 1').get() as { seq: number; hash: string; frontier: Buffer | null } | undefined;
      const head: LogHead = cp
        ? { seq: cp.seq, hash: cp.hash, tree: cp.frontier ? MerkleFrontier.fromBytes(cp.seq, cp.frontier) : this.#rebuildFrontier(cp.seq) }
        : { seq: 0, hash: GENESIS_HASH, tree: MerkleFrontier.empty() };
      const { rows, head: next, treeHead } = build(head);
      if (rows.length === 0) return;
      if (next.seq !== head.seq + rows.length || next.tree.size !== next.seq || treeHead.treeSize !== next.seq) {
        throw new Error(`audit commit of ${rows.length} records after ${head.seq} is inconsistent (head ${next.seq}, tree ${next.tree.size}, signed ${treeHead.treeSize})`);
      }
      const insert = d.stmt(
        `INSERT INTO audit_events (seq, hash, record, event_id, event_time, account_id, event_name, event_source, read_only, username, access_key_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const resource = d.stmt('INSERT INTO audit_resources (seq, account_id, type, name, event_time) VALUES (?, ?, ?, ?, ?)');
      for (const { seq, hash, record: r, canonical } of rows) {
        const time = Date.parse(r.eventTime);
        // account_id is the account whose LookupEvents shows the record. Data events (S3 object-level calls)
        // are in the chain but LookupEvents never shows them, as AWS: no account, no resource rows.
        const lookupAccount = r.managementEvent === false ? '' : r.recipientAccountId;
        insert.run(seq, hash, canonical, r.eventID, time, lookupAccount, r.eventName, r.eventSource, String(r.readOnly), lookupUsername(r.userIdentity) ?? '', lookupAccessKeyId(r.userIdentity) ?? '');
        if (lookupAccount !== '') for (const res of r.resources ?? []) resource.run(seq, lookupAccount, res.type, res.ARN, time);
      }
      d.stmt('INSERT INTO audit_checkpoint (id, seq, hash, frontier) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, frontier = excluded.frontier').run(
        next.seq,
        next.hash,
        next.tree.toBytes(),
      );
      const newest = d.stmt('SELECT id, timestamp FROM audit_tree_heads ORDER BY id DESC LIMIT 1').get() as { id: number; timestamp: number } | undefined;
      const t = treeHead;
      if (newest && Math.floor(newest.timestamp / TREE_HEAD_RETENTION_MS) === Math.floor(t.timestamp / TREE_HEAD_RETENTION_MS)) {
        d.stmt('UPDATE audit_tree_heads SET tree_size = ?, root_hash = ?, timestamp = ?, key_id = ?, signature = ? WHERE id = ?').run(t.treeSize, t.rootHash, t.timestamp, t.keyId, t.signature, newest.id);
      } else {
        d.stmt('INSERT INTO audit_tree_heads (tree_size, root_hash, timestamp, key_id, signature) VALUES (?, ?, ?, ?, ?)').run(t.treeSize, t.rootHash, t.timestamp, t.keyId, t.signature);
      }
    });
  }

  /** A data dir from before migration 010 has no frontier yet: its records' tree, computed once. */
  #rebuildFrontier(seq: number): MerkleFrontier {
    const tree = MerkleFrontier.empty();
    for (const row of this.database.stmt('SELECT record FROM audit_events WHERE seq <= ? ORDER BY seq').iterate(seq) as IterableIterator<{ record: string }>) tree.append(leafHash(row.record));
    if (tree.size !== seq) throw new Error(`the audit checkpoint names record ${seq} but the log holds ${tree.size} records up to it`);
    return tree;
  }

  async checkpoint(): Promise<StoredCheckpoint | undefined> {
    return this.#view.checkpoint();
  }

  async links(afterSeq: number, limit: number): Promise<StoredLink[]> {
    return this.#view.links(afterSeq, limit);
  }

  async treeHeads(): Promise<StoredTreeHead[]> {
    return this.#view.treeHeads();
  }

  async recordCount(): Promise<number> {
    return this.#view.recordCount();
  }

  readonly #view: AuditLogView = logView((sql) => this.database.stmt(sql));

  /**
   * A read transaction on a connection of its own, opened read-only: in WAL mode a reader's snapshot is fixed
   * by its first read and commits of other connections go on beside it
   * (https://www.sqlite.org/wal.html#concurrency, https://www.sqlite.org/isolation.html). Not the shared
   * connection: the other stores of this process write on it between the awaits of `read`.
   */
  async readSnapshot<T>(read: (log: AuditLogView) => Promise<T>): Promise<T> {
    const db = new Database(this.database.path, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      db.exec('BEGIN');
      try {
        const stmts = new Map<string, Database.Statement>();
        return await read(logView((sql) => stmts.get(sql) ?? stmts.set(sql, db.prepare(sql)).get(sql)!));
      } finally {
        db.exec('ROLLBACK');
      }
    } finally {
      db.close();
    }
  }

  async treeHeadKey(): Promise<StoredTreeHeadKey | undefined> {
    const row = this.database.stmt('SELECT key_id, public_key, wrapped_private_key, created_at FROM audit_tree_key WHERE id = 1').get() as
      | { key_id: string; public_key: Buffer; wrapped_private_key: Buffer; created_at: number }
      | undefined;
    return row && { keyId: row.key_id, publicKey: row.public_key, wrappedPrivateKey: row.wrapped_private_key, createdAt: row.created_at };
  }

  async addTreeHeadKey(k: StoredTreeHeadKey): Promise<void> {
    this.database.stmt('INSERT INTO audit_tree_key (id, key_id, public_key, wrapped_private_key, created_at) VALUES (1, ?, ?, ?, ?)').run(k.keyId, k.publicKey, k.wrappedPrivateKey, k.createdAt);
  }

  /**
   * Newest first by event time, then by sequence number: one backwards range scan of the index that ends
   * with (event_time, seq) for the attribute asked (migration 007), stopping after a page. The page marker
   * is the sequence number of the last event shown; the next page starts strictly before its (time, seq).
   */
  async lookup(q: LookupQuery): Promise<StoredEvent[]> {
    const d = this.database;
    let before: { time: number; seq: number } | undefined;
    if (q.beforeSeq !== undefined) {
      const row = d.stmt('SELECT event_time FROM audit_events WHERE seq = ?').get(q.beforeSeq) as { event_time: number } | undefined;
      if (!row) return [];
      before = { time: row.event_time, seq: q.beforeSeq };
    }
    const key = q.attribute?.key;
    if (key === 'ResourceType' || key === 'ResourceName') return this.#lookupResources(q, key, before);
    // The lookup indexes are partial (migration 011): the query states their condition so they apply.
    const where = ['account_id = ?', "account_id <> ''"];
    const args: unknown[] = [q.accountId];
    const by = key !== undefined ? EVENT_COLUMNS[key] : undefined;
    if (q.attribute && by) (where.push(`${by.column} = ?`), args.push(q.attribute.value));
    if (q.startTime !== undefined) (where.push('event_time >= ?'), args.push(q.startTime));
    if (q.endTime !== undefined) (where.push('event_time <= ?'), args.push(q.endTime));
    if (before) (where.push('(event_time, seq) < (?, ?)'), args.push(before.time, before.seq));
    args.push(q.limit);
    return d.stmt(`SELECT seq, record FROM audit_events INDEXED BY ${by?.index ?? 'audit_events_time'} WHERE ${where.join(' AND ')} ORDER BY event_time DESC, seq DESC LIMIT ?`).all(...args) as StoredEvent[];
  }

  /**
   * ResourceType / ResourceName: the resources' own (time, seq) index, joined to the records. A record
   * naming two resources of one type appears twice in that index, next to each other: the second is skipped,
   * and a batch cut short by duplicates is followed by another.
   */
  #lookupResources(q: LookupQuery, key: 'ResourceType' | 'ResourceName', before: { time: number; seq: number } | undefined): StoredEvent[] {
    const where = [`r.account_id = ?`, `r.${key === 'ResourceType' ? 'type' : 'name'} = ?`];
    const args: unknown[] = [q.accountId, q.attribute!.value];
    if (q.startTime !== undefined) (where.push('r.event_time >= ?'), args.push(q.startTime));
    if (q.endTime !== undefined) (where.push('r.event_time <= ?'), args.push(q.endTime));
    const sql = (after: boolean) =>
      `SELECT r.seq AS seq, r.event_time AS time, e.record AS record
       FROM audit_resources r INDEXED BY ${key === 'ResourceType' ? 'audit_resources_type_time' : 'audit_resources_name_time'} JOIN audit_events e ON e.seq = r.seq
       WHERE ${[...where, ...(after ? ['(r.event_time, r.seq) < (?, ?)'] : [])].join(' AND ')} ORDER BY r.event_time DESC, r.seq DESC LIMIT ?`;
    const out: StoredEvent[] = [];
    let cursor = before;
    for (;;) {
      const batch = this.database.stmt(sql(cursor !== undefined)).all(...args, ...(cursor ? [cursor.time, cursor.seq] : []), q.limit) as (StoredEvent & { time: number })[];
      for (const row of batch) {
        if (out[out.length - 1]?.seq !== row.seq) out.push({ seq: row.seq, record: row.record });
        if (out.length === q.limit) return out;
      }
      const last = batch[batch.length - 1];
      if (!last || batch.length < q.limit) return out;
      cursor = { time: last.time, seq: last.seq };
    }
  }
}

/** The log as verification reads it, through `prepare` (the shared connection's statement cache, or a snapshot's). */
function logView(prepare: (sql: string) => Database.Statement): AuditLogView {
  return {
    async checkpoint() {
      return prepare('SELECT seq, hash, frontier FROM audit_checkpoint WHERE id = 1').get() as StoredCheckpoint | undefined;
    },
    async links(afterSeq, limit) {
      return prepare('SELECT seq, hash, record FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as StoredLink[];
    },
    async treeHeads() {
      return prepare('SELECT id, tree_size AS treeSize, root_hash AS rootHash, timestamp, key_id AS keyId, signature FROM audit_tree_heads ORDER BY id').all() as StoredTreeHead[];
    },
    async recordCount() {
      return (prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    },
  };
}
