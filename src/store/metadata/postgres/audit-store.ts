import { AuditCommit, LogHead } from '../../../core/audit/audit-log.js';
import { LookupKey, LookupQuery, StoredEvent } from '../../../core/audit/lookup.js';
import { MerkleFrontier } from '../../../core/audit/merkle.js';
import { lookupAccessKeyId, lookupUsername } from '../../../core/audit/record.js';
import { StoredTreeHeadKey } from '../../../core/audit/tree-head-key.js';
import { StoredCheckpoint, StoredLink, StoredTreeHead } from '../../../core/audit/verify.js';
import { AuditLogView, AuditStore, TREE_HEAD_RETENTION_MS } from '../audit-types.js';
import { PostgresDatabase, Queryable } from './database.js';
import { num } from './rows.js';

/** The column each LookupEvents attribute filters on (its index, migration 009, ends with (event_time, seq)). */
const EVENT_COLUMNS: Record<Exclude<LookupKey, 'ResourceType' | 'ResourceName'>, string> = {
  EventId: 'event_id',
  EventName: 'event_name',
  ReadOnly: 'read_only',
  Username: 'username',
  EventSource: 'event_source',
  AccessKeyId: 'access_key_id',
};

interface CheckpointRow {
  seq: string;
  hash: string;
  frontier: Buffer;
}

interface TreeHeadRow {
  id: string;
  treesize: string;
  roothash: Buffer;
  timestamp: string;
  keyid: string;
  signature: Buffer;
}

const TREE_HEADS = 'SELECT id, tree_size AS treesize, root_hash AS roothash, timestamp, key_id AS keyid, signature FROM audit_tree_heads';
const treeHead = (r: TreeHeadRow): StoredTreeHead => ({ id: Number(r.id), treeSize: Number(r.treesize), rootHash: r.roothash, timestamp: Number(r.timestamp), keyId: r.keyid, signature: r.signature });
const event = (r: { seq: string; record: string }): StoredEvent => ({ seq: Number(r.seq), record: r.record });

/**
 * The audit log in PostgreSQL (migration 009): the sink AuditLog commits to, the LookupEvents index, the audit
 * signing key and the log as `audit verify` reads it — one log for every node on the database.
 *
 * An append is one transaction that first locks the checkpoint row (SELECT … FOR UPDATE): the appends of all
 * nodes take turns on it, each reads the head the previous one committed, and `build` (hash chain, Merkle
 * frontier, signed tree head) runs while the lock is held — so the nodes' records form one gap-free chain.
 * Rows, checkpoint and tree head are written before COMMIT; `append` resolves only after COMMIT returned
 * (synchronous_commit on: durable), and rejects with nothing written otherwise. No `durable()`.
 */
export class PostgresAuditStore implements AuditStore {
  readonly #view: AuditLogView;

  constructor(private readonly database: PostgresDatabase) {
    this.#view = logView(database);
  }

  async append(build: (head: LogHead) => AuditCommit): Promise<void> {
    await this.database.transaction(async (tx) => {
      const { rows: locked } = await tx.query<CheckpointRow>('SELECT seq, hash, frontier FROM audit_checkpoint WHERE id = 1 FOR UPDATE');
      const cp = locked[0];
      if (!cp) throw new Error('the audit checkpoint row is missing (migration 009 makes it): the database was altered');
      const seq = Number(cp.seq);
      const head: LogHead = { seq, hash: cp.hash, tree: MerkleFrontier.fromBytes(seq, cp.frontier) };
      const { rows, head: next, treeHead: t } = build(head);
      if (rows.length === 0) return;
      if (next.seq !== head.seq + rows.length || rows[0]!.seq !== head.seq + 1 || next.tree.size !== next.seq || t.treeSize !== next.seq) {
        throw new Error(`audit commit of ${rows.length} records after ${head.seq} is inconsistent (head ${next.seq}, tree ${next.tree.size}, signed ${t.treeSize})`);
      }
      // Every write of the commit in one statement (data-modifying CTEs): one round trip while the lock is held.
      // One kept head per minute of wall-clock time, as every audit store (TREE_HEAD_RETENTION_MS): the commit's
      // head replaces the newest row when that one is from the same minute, else it is a new row.
      const { e, r } = columns(rows);
      await tx.query(
        `WITH ev AS (
           INSERT INTO audit_events (seq, hash, record, event_id, event_time, account_id, event_name, event_source, read_only, username, access_key_id)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
         ), res AS (
           INSERT INTO audit_resources (seq, account_id, type, name, event_time)
           SELECT * FROM unnest($12::bigint[], $13::text[], $14::text[], $15::text[], $16::bigint[])
         ), cp AS (
           UPDATE audit_checkpoint SET seq = $17, hash = $18, frontier = $19 WHERE id = 1
         ), th AS (
           UPDATE audit_tree_heads SET tree_size = $20, root_hash = $21, timestamp = $22, key_id = $23, signature = $24
           WHERE id = (SELECT max(id) FROM audit_tree_heads) AND floor(timestamp / $25::float8) = $26
           RETURNING id
         )
         INSERT INTO audit_tree_heads (tree_size, root_hash, timestamp, key_id, signature)
         SELECT $20, $21, $22, $23, $24 WHERE NOT EXISTS (SELECT 1 FROM th)`,
        [
          e.seq, e.hash, e.record, e.id, e.time, e.account, e.name, e.source, e.readOnly, e.user, e.akid,
          r.seq, r.account, r.type, r.name, r.time,
          next.seq, next.hash, next.tree.toBytes(),
          t.treeSize, t.rootHash, t.timestamp, t.keyId, t.signature, TREE_HEAD_RETENTION_MS, Math.floor(t.timestamp / TREE_HEAD_RETENTION_MS),
        ],
      );
    });
  }

  /** Undefined before the first record (the row then holds the genesis head). */
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

  /** One read-only REPEATABLE READ transaction (PostgresDatabase.readSnapshot): one snapshot for every read. */
  readSnapshot<T>(read: (log: AuditLogView) => Promise<T>): Promise<T> {
    return this.database.readSnapshot((tx) => read(logView(tx)));
  }

  async treeHeadKey(): Promise<StoredTreeHeadKey | undefined> {
    const { rows } = await this.database.query<{ key_id: string; public_key: Buffer; wrapped_private_key: Buffer; created_at: string }>(
      'SELECT key_id, public_key, wrapped_private_key, created_at FROM audit_tree_key WHERE id = 1',
    );
    const r = rows[0];
    return r && { keyId: r.key_id, publicKey: r.public_key, wrappedPrivateKey: r.wrapped_private_key, createdAt: Number(r.created_at) };
  }

  /** Rejects (unique violation) when a key is stored already: the first node to start makes it. */
  async addTreeHeadKey(k: StoredTreeHeadKey): Promise<void> {
    await this.database.query('INSERT INTO audit_tree_key (id, key_id, public_key, wrapped_private_key, created_at) VALUES (1, $1, $2, $3, $4)', [k.keyId, k.publicKey, k.wrappedPrivateKey, k.createdAt]);
  }

  /**
   * Newest first by event time, then by sequence number: one backwards scan of the index ending with
   * (event_time, seq) for the attribute asked, stopping after a page. The page marker is the sequence number
   * of the last event shown; the next page starts strictly before its (time, seq).
   */
  async lookup(q: LookupQuery): Promise<StoredEvent[]> {
    let before: { time: number; seq: number } | undefined;
    if (q.beforeSeq !== undefined) {
      const { rows } = await this.database.query<{ event_time: string }>('SELECT event_time FROM audit_events WHERE seq = $1', [q.beforeSeq]);
      if (!rows[0]) return [];
      before = { time: Number(rows[0].event_time), seq: q.beforeSeq };
    }
    const key = q.attribute?.key;
    if (key === 'ResourceType' || key === 'ResourceName') return this.#lookupResources(q, key, before);
    // The lookup indexes are partial (migration 009): the query states their condition so the planner uses them.
    const args: unknown[] = [q.accountId];
    const where = ['account_id = $1', "account_id <> ''"];
    const arg = (v: unknown) => (args.push(v), `$${args.length}`);
    if (q.attribute && key !== undefined) where.push(`${EVENT_COLUMNS[key]} = ${arg(q.attribute.value)}`);
    if (q.startTime !== undefined) where.push(`event_time >= ${arg(q.startTime)}`);
    if (q.endTime !== undefined) where.push(`event_time <= ${arg(q.endTime)}`);
    if (before) where.push(`(event_time, seq) < (${arg(before.time)}, ${arg(before.seq)})`);
    const { rows } = await this.database.query<{ seq: string; record: string }>(
      `SELECT seq, record FROM audit_events WHERE ${where.join(' AND ')} ORDER BY event_time DESC, seq DESC LIMIT ${arg(q.limit)}`,
      args,
    );
    return rows.map(event);
  }

  /**
   * ResourceType / ResourceName: the resources' own (time, seq) index, joined to the records. A record naming
   * two resources of one type appears twice in that index, next to each other: the second is skipped, and a
   * batch cut short by duplicates is followed by another.
   */
  async #lookupResources(q: LookupQuery, key: 'ResourceType' | 'ResourceName', before: { time: number; seq: number } | undefined): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    let cursor = before;
    for (;;) {
      const args: unknown[] = [q.accountId, q.attribute!.value];
      const arg = (v: unknown) => (args.push(v), `$${args.length}`);
      const where = ['r.account_id = $1', `r.${key === 'ResourceType' ? 'type' : 'name'} = $2`];
      if (q.startTime !== undefined) where.push(`r.event_time >= ${arg(q.startTime)}`);
      if (q.endTime !== undefined) where.push(`r.event_time <= ${arg(q.endTime)}`);
      if (cursor) where.push(`(r.event_time, r.seq) < (${arg(cursor.time)}, ${arg(cursor.seq)})`);
      const { rows: batch } = await this.database.query<{ seq: string; time: string; record: string }>(
        `SELECT r.seq AS seq, r.event_time AS time, e.record AS record
         FROM audit_resources r JOIN audit_events e ON e.seq = r.seq
         WHERE ${where.join(' AND ')} ORDER BY r.event_time DESC, r.seq DESC LIMIT ${arg(q.limit)}`,
        args,
      );
      for (const row of batch) {
        const seq = Number(row.seq);
        if (out[out.length - 1]?.seq !== seq) out.push({ seq, record: row.record });
        if (out.length === q.limit) return out;
      }
      const last = batch[batch.length - 1];
      if (!last || batch.length < q.limit) return out;
      cursor = { time: num(last.time)!, seq: Number(last.seq) };
    }
  }
}

/**
 * The commit's records and their resources, each in one statement (unnest of one array per column): a group of
 * hundreds of records costs two round trips, not hundreds.
 */
/** The commit's rows as the columns (arrays) the INSERT … SELECT unnest(…) of append takes. */
function columns(rows: AuditCommit['rows']) {
  const e = { seq: [] as number[], hash: [] as string[], record: [] as string[], id: [] as string[], time: [] as number[], account: [] as string[], name: [] as string[], source: [] as string[], readOnly: [] as string[], user: [] as string[], akid: [] as string[] };
  const r = { seq: [] as number[], account: [] as string[], type: [] as string[], name: [] as string[], time: [] as number[] };
  for (const { seq, hash, record: rec, canonical } of rows) {
    const time = Date.parse(rec.eventTime);
    // The account whose LookupEvents shows the record. Data events (S3 object-level calls) are in the chain
    // but LookupEvents never shows them, as AWS: no account, no resource rows.
    const account = rec.managementEvent === false ? '' : rec.recipientAccountId;
    e.seq.push(seq), e.hash.push(hash), e.record.push(canonical), e.id.push(rec.eventID), e.time.push(time), e.account.push(account);
    e.name.push(rec.eventName), e.source.push(rec.eventSource), e.readOnly.push(String(rec.readOnly));
    e.user.push(lookupUsername(rec.userIdentity) ?? ''), e.akid.push(lookupAccessKeyId(rec.userIdentity) ?? '');
    if (account !== '') for (const res of rec.resources ?? []) r.seq.push(seq), r.account.push(account), r.type.push(res.type), r.name.push(res.ARN), r.time.push(time);
  }
  return { e, r };
}

/** The log as verification reads it, through the pool or a snapshot's transaction. */
function logView(db: Queryable): AuditLogView {
  return {
    async checkpoint() {
      const { rows } = await db.query<CheckpointRow>('SELECT seq, hash, frontier FROM audit_checkpoint WHERE id = 1');
      const cp = rows[0];
      return cp && Number(cp.seq) > 0 ? { seq: Number(cp.seq), hash: cp.hash, frontier: cp.frontier } : undefined;
    },
    async links(afterSeq, limit) {
      const { rows } = await db.query<{ seq: string; hash: string; record: string }>('SELECT seq, hash, record FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit]);
      return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, record: r.record }));
    },
    async treeHeads() {
      const { rows } = await db.query<TreeHeadRow>(`${TREE_HEADS} ORDER BY id`);
      return rows.map(treeHead);
    },
    async recordCount() {
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_events');
      return Number(rows[0]!.n);
    },
  };
}
