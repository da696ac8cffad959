import { AuditRow, AuditSink, ChainHead } from '../../../core/audit/audit-log.js';
import { AuditReader, LookupKey, LookupQuery, StoredEvent } from '../../../core/audit/lookup.js';
import { GENESIS_HASH, lookupAccessKeyId, lookupUsername } from '../../../core/audit/record.js';
import { SqliteDatabase } from './database.js';

/** The column (or audit_resources column) each LookupEvents attribute filters on. */
const EVENT_COLUMNS: Record<Exclude<LookupKey, 'ResourceType' | 'ResourceName'>, string> = {
  EventId: 'event_id',
  EventName: 'event_name',
  ReadOnly: 'read_only',
  Username: 'username',
  EventSource: 'event_source',
  AccessKeyId: 'access_key_id',
};

/** The audit log in the metadata database (migration 006): the durable sink and the LookupEvents index. */
export class SqliteAuditStore implements AuditSink, AuditReader {
  constructor(private readonly database: SqliteDatabase) {}

  append(build: (head: ChainHead) => AuditRow[]): void {
    const d = this.database;
    d.transaction(() => {
      const cp = d.stmt('SELECT seq, hash FROM audit_checkpoint WHERE id = 1').get() as ChainHead | undefined;
      const rows = build(cp ?? { seq: 0, hash: GENESIS_HASH });
      const insert = d.stmt(
        `INSERT INTO audit_events (seq, hash, record, event_id, event_time, account_id, event_name, event_source, read_only, username, access_key_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const resource = d.stmt('INSERT INTO audit_resources (seq, account_id, type, name) VALUES (?, ?, ?, ?)');
      for (const { seq, hash, record: r, canonical } of rows) {
        insert.run(seq, hash, canonical, r.eventID, Date.parse(r.eventTime), r.recipientAccountId, r.eventName, r.eventSource, String(r.readOnly), lookupUsername(r.userIdentity) ?? '', lookupAccessKeyId(r.userIdentity) ?? '');
        for (const res of r.resources ?? []) resource.run(seq, r.recipientAccountId, res.type, res.ARN);
      }
      const last = rows[rows.length - 1];
      if (last) d.stmt('INSERT INTO audit_checkpoint (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash').run(last.seq, last.hash);
    });
  }

  lookup(q: LookupQuery): StoredEvent[] {
    const where = ['e.account_id = ?'];
    const args: unknown[] = [q.accountId];
    let from = 'audit_events e';
    if (q.attribute) {
      const { key, value } = q.attribute;
      if (key === 'ResourceType' || key === 'ResourceName') {
        from = `audit_events e JOIN (SELECT DISTINCT seq FROM audit_resources WHERE account_id = ? AND ${key === 'ResourceType' ? 'type' : 'name'} = ?) r ON r.seq = e.seq`;
        args.unshift(q.accountId, value);
      } else {
        where.push(`e.${EVENT_COLUMNS[key]} = ?`);
        args.push(value);
      }
    }
    if (q.startTime !== undefined) (where.push('e.event_time >= ?'), args.push(q.startTime));
    if (q.endTime !== undefined) (where.push('e.event_time <= ?'), args.push(q.endTime));
    if (q.beforeSeq !== undefined) (where.push('e.seq < ?'), args.push(q.beforeSeq));
    args.push(q.limit);
    return this.database.stmt(`SELECT e.seq AS seq, e.record AS record FROM ${from} WHERE ${where.join(' AND ')} ORDER BY e.seq DESC LIMIT ?`).all(...args) as StoredEvent[];
  }
}
