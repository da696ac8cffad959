import { StoredEvent } from '../../../core/audit/lookup.js';
import { DigestChain, PendingObject, PlannedObject, TrailDeliveryStore } from '../../../core/audit/trail-delivery.js';
import { DigestedLogFile } from '../../../core/audit/trail-files.js';
import { Queryable, PostgresDatabase } from './database.js';
import { bytes, num, text } from './rows.js';

type Row = Record<string, any>;

/**
 * Trail delivery's memory on PostgreSQL (migrations/008-cloudtrail.ts): each trail's position in the audit
 * log, files planned but not yet written (with their bytes), delivered log files no digest listed yet, and
 * each region's digest chain. Every plan… and delivered() is one transaction, so the files' bytes are kept in
 * the same commit that moves the position. Object keys are bytea (a trail's S3 key prefix may hold U+0000).
 * The audit log's records are read from audit_events, the PostgreSQL audit store's table.
 */
export class PostgresTrailDeliveryStore implements TrailDeliveryStore {
  constructor(private readonly database: PostgresDatabase) {}

  async recordsAfter(seq: number, limit: number): Promise<StoredEvent[]> {
    const { rows } = await this.database.query('SELECT seq, record FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2', [seq, limit]);
    return rows.map((r: Row) => ({ seq: Number(r.seq), record: text(r.record) }));
  }

  async deliveredSeq(trailArn: string): Promise<number> {
    const r = (await this.database.query('SELECT delivered_seq FROM cloudtrail_delivery WHERE trail_arn = $1', [trailArn])).rows[0];
    return r ? Number(r.delivered_seq) : 0;
  }

  async planLogs(trailArn: string, files: readonly PlannedObject[], fromSeq: number, deliveredSeq: number, now: number): Promise<boolean> {
    return this.database.transaction(async (tx) => {
      // The position moves only from where the planner read it (compare and set), before anything is written.
      const { rowCount } =
        fromSeq === 0
          ? await tx.query(
              `INSERT INTO cloudtrail_delivery (trail_arn, delivered_seq) VALUES ($1, $2)
               ON CONFLICT (trail_arn) DO UPDATE SET delivered_seq = excluded.delivered_seq WHERE cloudtrail_delivery.delivered_seq = 0`,
              [trailArn, deliveredSeq],
            )
          : await tx.query('UPDATE cloudtrail_delivery SET delivered_seq = $1 WHERE trail_arn = $2 AND delivered_seq = $3', [deliveredSeq, trailArn, fromSeq]);
      if (!rowCount) return false;
      for (const f of files) await insertPending(tx, trailArn, f, now);
      return true;
    });
  }

  async planDigest(trailArn: string, d: PlannedObject, endTime: number, signature: string, listed: readonly string[], now: number): Promise<void> {
    await this.database.transaction(async (tx) => {
      await insertPending(tx, trailArn, d, now);
      await tx.query(
        `INSERT INTO cloudtrail_digest_chains (trail_arn, region, last_end_time, bucket, key, sha256, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (trail_arn, region) DO UPDATE SET last_end_time = excluded.last_end_time, bucket = excluded.bucket, key = excluded.key,
           sha256 = excluded.sha256, signature = excluded.signature`,
        [trailArn, d.region, endTime, d.bucket, bytes(d.key), d.sha256, signature],
      );
      if (listed.length > 0) {
        await tx.query('DELETE FROM cloudtrail_log_files WHERE trail_arn = $1 AND key = ANY($2::bytea[])', [trailArn, listed.map(bytes)]);
      }
    });
  }

  async pending(trailArn: string): Promise<PendingObject[]> {
    const { rows } = await this.database.query('SELECT * FROM cloudtrail_pending_objects WHERE trail_arn = $1 ORDER BY id', [trailArn]);
    return rows.map((r: Row) => ({
      id: Number(r.id),
      trailArn: r.trail_arn,
      kind: r.kind,
      region: r.region,
      bucket: r.bucket,
      key: text(r.key),
      body: r.body,
      metadata: JSON.parse(r.metadata),
      sha256: r.sha256,
      oldestEventTime: num(r.oldest_event_time),
      newestEventTime: num(r.newest_event_time),
    }));
  }

  /**
   * Only a file still pending is recorded (see SqliteTrailDeliveryStore.delivered): a file whose trail was
   * deleted, or that another writer recorded first, changes nothing. The DELETE decides it: of two nodes
   * reporting one file, the second finds no row (it waits for the first's commit, then deletes nothing).
   */
  async delivered(p: PendingObject, digested: boolean, now: number): Promise<void> {
    await this.database.transaction(async (tx) => {
      const gone = await tx.query('DELETE FROM cloudtrail_pending_objects WHERE id = $1 AND trail_arn = $2 AND key = $3', [p.id, p.trailArn, bytes(p.key)]);
      if (gone.rowCount === 0) return;
      if (p.kind === 'log' && digested) {
        await tx.query(
          `INSERT INTO cloudtrail_log_files (trail_arn, bucket, key, sha256, oldest_event_time, newest_event_time, delivered_at, region)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
          [p.trailArn, p.bucket, bytes(p.key), p.sha256, p.oldestEventTime, p.newestEventTime, now, p.region],
        );
      }
      const [time, error] = p.kind === 'log' ? ['last_log_delivery_time', 'last_log_delivery_error'] : ['last_digest_delivery_time', 'last_digest_delivery_error'];
      await tx.query(
        `INSERT INTO cloudtrail_delivery (trail_arn, delivered_seq, ${time}) VALUES ($1, 0, $2)
         ON CONFLICT (trail_arn) DO UPDATE SET ${time} = excluded.${time}, ${error} = NULL`,
        [p.trailArn, now],
      );
    });
  }

  /** Keeps the last successful delivery time; only for a trail that still exists (as SqliteTrailDeliveryStore.failed). */
  async failed(trailArn: string, kind: 'log' | 'digest', message: string): Promise<void> {
    const error = kind === 'log' ? 'last_log_delivery_error' : 'last_digest_delivery_error';
    await this.database.query(
      `INSERT INTO cloudtrail_delivery (trail_arn, delivered_seq, ${error}) SELECT $1, 0, $2 WHERE EXISTS (SELECT 1 FROM cloudtrail_trails WHERE arn = $1)
       ON CONFLICT (trail_arn) DO UPDATE SET ${error} = excluded.${error}`,
      [trailArn, message],
    );
  }

  async undigested(trailArn: string, region: string): Promise<DigestedLogFile[]> {
    const { rows } = await this.database.query('SELECT * FROM cloudtrail_log_files WHERE trail_arn = $1 AND region = $2 ORDER BY delivered_at, key', [trailArn, region]);
    return rows.map((r: Row) => ({
      bucket: r.bucket,
      key: text(r.key),
      sha256: r.sha256,
      oldestEventTime: Number(r.oldest_event_time),
      newestEventTime: Number(r.newest_event_time),
    }));
  }

  async chains(trailArn: string): Promise<DigestChain[]> {
    const { rows } = await this.database.query('SELECT * FROM cloudtrail_digest_chains WHERE trail_arn = $1 ORDER BY region', [trailArn]);
    return rows.map((r: Row) => ({
      region: r.region,
      lastEndTime: Number(r.last_end_time),
      previous: r.key === null ? undefined : { bucket: r.bucket, key: text(r.key), sha256: r.sha256, signature: r.signature },
    }));
  }
}

async function insertPending(tx: Queryable, trailArn: string, f: PlannedObject, now: number): Promise<void> {
  await tx.query(
    `INSERT INTO cloudtrail_pending_objects (trail_arn, kind, region, bucket, key, body, metadata, sha256, oldest_event_time, newest_event_time, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [trailArn, f.kind, f.region, f.bucket, bytes(f.key), f.body, JSON.stringify(f.metadata), f.sha256, f.oldestEventTime, f.newestEventTime, now],
  );
}
