import { StoredEvent } from '../../../core/audit/lookup.js';
import { DigestChain, PendingObject, PlannedObject, TrailDeliveryStore } from '../../../core/audit/trail-delivery.js';
import { DigestedLogFile } from '../../../core/audit/trail-files.js';
import { SqliteDatabase } from './database.js';

type Row = Record<string, any>;

/**
 * Trail delivery's memory on the shared database (migrations 007 and 009): the position of each trail in the
 * audit log (cloudtrail_delivery.delivered_seq), files planned but not yet written (with their bytes),
 * delivered log files no digest listed yet, and each region's digest chain.
 */
export class SqliteTrailDeliveryStore implements TrailDeliveryStore {
  constructor(private readonly database: SqliteDatabase) {}

  async recordsAfter(seq: number, limit: number): Promise<StoredEvent[]> {
    return this.database.stmt('SELECT seq, record FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?').all(seq, limit) as StoredEvent[];
  }

  async deliveredSeq(trailArn: string): Promise<number> {
    const r = this.database.stmt('SELECT delivered_seq FROM cloudtrail_delivery WHERE trail_arn = ?').get(trailArn) as Row | undefined;
    return r?.delivered_seq ?? 0;
  }

  async planLogs(trailArn: string, files: readonly PlannedObject[], fromSeq: number, deliveredSeq: number, now: number): Promise<boolean> {
    return this.database.transaction(() => {
      // The position moves only from where the planner read it (compare and set), before anything is written.
      const moved =
        fromSeq === 0
          ? this.database
              .stmt(
                `INSERT INTO cloudtrail_delivery (trail_arn, delivered_seq) VALUES (?, ?)
                 ON CONFLICT (trail_arn) DO UPDATE SET delivered_seq = excluded.delivered_seq WHERE delivered_seq = 0`,
              )
              .run(trailArn, deliveredSeq).changes
          : this.database.stmt('UPDATE cloudtrail_delivery SET delivered_seq = ? WHERE trail_arn = ? AND delivered_seq = ?').run(deliveredSeq, trailArn, fromSeq).changes;
      if (moved === 0) return false;
      for (const f of files) this.#insertPending(trailArn, f, now);
      return true;
    });
  }

  async planDigest(trailArn: string, d: PlannedObject, endTime: number, signature: string, listed: readonly string[], now: number): Promise<void> {
    this.database.transaction(() => {
      this.#insertPending(trailArn, d, now);
      this.database
        .stmt(
          `INSERT INTO cloudtrail_digest_chains (trail_arn, region, last_end_time, bucket, key, sha256, signature) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (trail_arn, region) DO UPDATE SET last_end_time = excluded.last_end_time, bucket = excluded.bucket, key = excluded.key,
             sha256 = excluded.sha256, signature = excluded.signature`,
        )
        .run(trailArn, d.region, endTime, d.bucket, d.key, d.sha256, signature);
      const drop = this.database.stmt('DELETE FROM cloudtrail_log_files WHERE trail_arn = ? AND key = ?');
      for (const key of listed) drop.run(trailArn, key);
    });
  }

  #insertPending(trailArn: string, f: PlannedObject, now: number): void {
    this.database
      .stmt(
        `INSERT INTO cloudtrail_pending_objects (trail_arn, kind, region, bucket, key, body, metadata, sha256, oldest_event_time, newest_event_time, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(trailArn, f.kind, f.region, f.bucket, f.key, f.body, JSON.stringify(f.metadata), f.sha256, f.oldestEventTime, f.newestEventTime, now);
  }

  async pending(trailArn: string): Promise<PendingObject[]> {
    return (this.database.stmt('SELECT * FROM cloudtrail_pending_objects WHERE trail_arn = ? ORDER BY id').all(trailArn) as Row[]).map((r) => ({
      id: r.id,
      trailArn: r.trail_arn,
      kind: r.kind,
      region: r.region,
      bucket: r.bucket,
      key: r.key,
      body: r.body,
      metadata: JSON.parse(r.metadata),
      sha256: r.sha256,
      oldestEventTime: r.oldest_event_time,
      newestEventTime: r.newest_event_time,
    }));
  }

  /**
   * Only a file still pending is recorded. Its trail may have been deleted while it was written (its pending
   * rows went with it, and their ids can be taken again by another trail's plan: the row is matched on trail
   * and key too), or another writer may have recorded it: then nothing changes, so that neither another
   * trail's pending file is dropped (a log file never written) nor a new trail of the same name inherits it.
   */
  async delivered(p: PendingObject, digested: boolean, now: number): Promise<void> {
    this.database.transaction(() => {
      if (this.database.stmt('DELETE FROM cloudtrail_pending_objects WHERE id = ? AND trail_arn = ? AND key = ?').run(p.id, p.trailArn, p.key).changes === 0) return;
      if (p.kind === 'log' && digested) {
        this.database
          .stmt(
            `INSERT INTO cloudtrail_log_files (trail_arn, bucket, key, sha256, oldest_event_time, newest_event_time, delivered_at, region)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          )
          .run(p.trailArn, p.bucket, p.key, p.sha256, p.oldestEventTime, p.newestEventTime, now, p.region);
      }
      const [time, error] = p.kind === 'log' ? ['last_log_delivery_time', 'last_log_delivery_error'] : ['last_digest_delivery_time', 'last_digest_delivery_error'];
      this.database
        .stmt(`INSERT INTO cloudtrail_delivery (trail_arn, delivered_seq, ${time}) VALUES (?, 0, ?) ON CONFLICT (trail_arn) DO UPDATE SET ${time} = excluded.${time}, ${error} = NULL`)
        .run(p.trailArn, now);
    });
  }

  /**
   * Keeps the time of the last successful delivery (LatestDeliveryTime); sets the error GetTrailStatus shows.
   * Only for a trail that still exists (one deleted while its file was being written leaves no state behind).
   */
  async failed(trailArn: string, kind: 'log' | 'digest', message: string): Promise<void> {
    const error = kind === 'log' ? 'last_log_delivery_error' : 'last_digest_delivery_error';
    this.database
      .stmt(
        `INSERT INTO cloudtrail_delivery (trail_arn, delivered_seq, ${error}) SELECT ?, 0, ? WHERE EXISTS (SELECT 1 FROM cloudtrail_trails WHERE arn = ?)
         ON CONFLICT (trail_arn) DO UPDATE SET ${error} = excluded.${error}`,
      )
      .run(trailArn, message, trailArn);
  }

  async undigested(trailArn: string, region: string): Promise<DigestedLogFile[]> {
    return (this.database.stmt('SELECT * FROM cloudtrail_log_files WHERE trail_arn = ? AND region = ? ORDER BY delivered_at, key').all(trailArn, region) as Row[]).map((r) => ({
      bucket: r.bucket,
      key: r.key,
      sha256: r.sha256,
      oldestEventTime: r.oldest_event_time,
      newestEventTime: r.newest_event_time,
    }));
  }

  async chains(trailArn: string): Promise<DigestChain[]> {
    return (this.database.stmt('SELECT * FROM cloudtrail_digest_chains WHERE trail_arn = ? ORDER BY region').all(trailArn) as Row[]).map((r) => ({
      region: r.region,
      lastEndTime: r.last_end_time,
      previous: r.key === null ? undefined : { bucket: r.bucket, key: r.key, sha256: r.sha256, signature: r.signature },
    }));
  }
}
