import { TRAIL_PATCH_COLUMNS, trailRows } from '../rows/trail.js';
import { SigningKeyRecord, TrailDeliveryState, TrailPatch, TrailRecord, TrailStore } from '../trail-types.js';
import { SqliteDatabase } from './database.js';
import { SQLITE_ROWS } from './rows.js';

type Row = Record<string, any>;

const { toTrail, toSigningKey } = trailRows(SQLITE_ROWS);

/** CloudTrail trails, their delivery state and the digest signing keys on the shared database (migration 007). */
export class SqliteTrailStore implements TrailStore {
  constructor(private readonly database: SqliteDatabase) {}

  async createTrail(t: TrailRecord): Promise<boolean> {
    const res = this.database
      .stmt(
        `INSERT INTO cloudtrail_trails (account_id, region, name, arn, s3_bucket_name, s3_key_prefix, sns_topic_name, include_global_service_events,
           is_multi_region_trail, log_file_validation_enabled, cloud_watch_logs_log_group_arn, cloud_watch_logs_role_arn, kms_key_id, event_selectors,
           advanced_event_selectors, is_logging, start_logging_time, stop_logging_time, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(
        t.accountId, t.region, t.name, t.arn, t.s3BucketName, t.s3KeyPrefix, t.snsTopicName, Number(t.includeGlobalServiceEvents),
        Number(t.isMultiRegionTrail), Number(t.logFileValidationEnabled), t.cloudWatchLogsLogGroupArn, t.cloudWatchLogsRoleArn, t.kmsKeyId,
        t.eventSelectors, t.advancedEventSelectors, Number(t.isLogging), t.startLoggingTime, t.stopLoggingTime, t.createdAt,
      );
    return res.changes === 1;
  }

  async getTrail(accountId: string, region: string, name: string): Promise<TrailRecord | undefined> {
    const r = this.database.stmt('SELECT * FROM cloudtrail_trails WHERE account_id = ? AND region = ? AND name = ?').get(accountId, region, name) as Row | undefined;
    return r ? toTrail(r) : undefined;
  }

  async listTrails(accountId: string, region: string): Promise<TrailRecord[]> {
    return (this.database.stmt('SELECT * FROM cloudtrail_trails WHERE account_id = ? AND (region = ? OR is_multi_region_trail = 1) ORDER BY name, region').all(accountId, region) as Row[]).map(toTrail);
  }

  async listAccountTrails(accountId: string): Promise<TrailRecord[]> {
    return (this.database.stmt('SELECT * FROM cloudtrail_trails WHERE account_id = ? ORDER BY name, region').all(accountId) as Row[]).map(toTrail);
  }

  async updateTrail(arn: string, patch: TrailPatch): Promise<void> {
    const sets: string[] = [];
    const args: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      sets.push(`${TRAIL_PATCH_COLUMNS[k as keyof TrailPatch]} = ?`);
      args.push(typeof v === 'boolean' ? Number(v) : v);
    }
    if (sets.length > 0) this.database.stmt(`UPDATE cloudtrail_trails SET ${sets.join(', ')} WHERE arn = ?`).run(...args, arn);
  }

  async deleteTrail(arn: string): Promise<void> {
    this.database.transaction(() => {
      this.database.stmt('DELETE FROM cloudtrail_trails WHERE arn = ?').run(arn);
      this.database.stmt('DELETE FROM cloudtrail_delivery WHERE trail_arn = ?').run(arn);
      this.database.stmt('DELETE FROM cloudtrail_log_files WHERE trail_arn = ?').run(arn);
      this.database.stmt('DELETE FROM cloudtrail_pending_objects WHERE trail_arn = ?').run(arn);
      this.database.stmt('DELETE FROM cloudtrail_digest_chains WHERE trail_arn = ?').run(arn);
    });
  }

  async startDelivery(arn: string): Promise<void> {
    this.database
      .stmt(
        `INSERT INTO cloudtrail_delivery (trail_arn, delivered_seq) VALUES (?, COALESCE((SELECT seq FROM audit_checkpoint WHERE id = 1), 0))
         ON CONFLICT (trail_arn) DO UPDATE SET delivered_seq = MAX(delivered_seq, excluded.delivered_seq)`,
      )
      .run(arn);
  }

  async loggingTrails(): Promise<TrailRecord[]> {
    return (this.database.stmt('SELECT * FROM cloudtrail_trails WHERE is_logging = 1 ORDER BY arn').all() as Row[]).map(toTrail);
  }

  async delivery(arn: string): Promise<TrailDeliveryState | undefined> {
    const r = this.database.stmt('SELECT * FROM cloudtrail_delivery WHERE trail_arn = ?').get(arn) as Row | undefined;
    if (!r) return undefined;
    return {
      trailArn: r.trail_arn,
      deliveredSeq: r.delivered_seq,
      lastLogDeliveryTime: r.last_log_delivery_time,
      lastLogDeliveryError: r.last_log_delivery_error,
      lastDigestDeliveryTime: r.last_digest_delivery_time,
      lastDigestDeliveryError: r.last_digest_delivery_error,
    };
  }

  async signingKeys(region: string): Promise<SigningKeyRecord[]> {
    return (this.database.stmt('SELECT * FROM cloudtrail_signing_keys WHERE region = ? ORDER BY valid_from').all(region) as Row[]).map(toSigningKey);
  }

  async addSigningKey(k: SigningKeyRecord): Promise<void> {
    this.database
      .stmt('INSERT INTO cloudtrail_signing_keys (region, fingerprint, public_key, wrapped_private_key, valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?)')
      .run(k.region, k.fingerprint, k.publicKey, k.wrappedPrivateKey, k.validFrom, k.validTo);
  }
}
