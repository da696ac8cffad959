import { TRAIL_PATCH_COLUMNS, trailRows } from '../rows/trail.js';
import { SigningKeyRecord, TrailDeliveryState, TrailPatch, TrailRecord, TrailStore } from '../trail-types.js';
import { PostgresDatabase } from './database.js';
import { bytes, num, POSTGRES_ROWS } from './rows.js';

const orNull = <T, U>(v: T | null, f: (x: T) => U): U | null => (v === null ? null : f(v));

const { toTrail, toSigningKey } = trailRows(POSTGRES_ROWS);

/**
 * CloudTrail trails, their delivery state and the digest signing keys on PostgreSQL (migrations/008-cloudtrail.ts).
 * Each call is one statement or one transaction, so every node sees the same trails at once.
 */
export class PostgresTrailStore implements TrailStore {
  constructor(private readonly database: PostgresDatabase) {}

  async createTrail(t: TrailRecord): Promise<boolean> {
    const res = await this.database.query(
      `INSERT INTO cloudtrail_trails (account_id, region, name, arn, s3_bucket_name, s3_key_prefix, sns_topic_name, include_global_service_events,
         is_multi_region_trail, log_file_validation_enabled, cloud_watch_logs_log_group_arn, cloud_watch_logs_role_arn, kms_key_id, event_selectors,
         advanced_event_selectors, is_logging, start_logging_time, stop_logging_time, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT DO NOTHING`,
      [
        t.accountId, t.region, t.name, t.arn, t.s3BucketName, orNull(t.s3KeyPrefix, bytes), t.snsTopicName, t.includeGlobalServiceEvents,
        t.isMultiRegionTrail, t.logFileValidationEnabled, t.cloudWatchLogsLogGroupArn, t.cloudWatchLogsRoleArn, t.kmsKeyId,
        t.eventSelectors, t.advancedEventSelectors, t.isLogging, t.startLoggingTime, t.stopLoggingTime, t.createdAt,
      ],
    );
    return res.rowCount === 1;
  }

  async getTrail(accountId: string, region: string, name: string): Promise<TrailRecord | undefined> {
    const r = (await this.database.query('SELECT * FROM cloudtrail_trails WHERE account_id = $1 AND region = $2 AND name = $3', [accountId, region, name])).rows[0];
    return r ? toTrail(r) : undefined;
  }

  async listTrails(accountId: string, region: string): Promise<TrailRecord[]> {
    const { rows } = await this.database.query(
      'SELECT * FROM cloudtrail_trails WHERE account_id = $1 AND (region = $2 OR is_multi_region_trail) ORDER BY name, region',
      [accountId, region],
    );
    return rows.map(toTrail);
  }

  async listAccountTrails(accountId: string): Promise<TrailRecord[]> {
    return (await this.database.query('SELECT * FROM cloudtrail_trails WHERE account_id = $1 ORDER BY name, region', [accountId])).rows.map(toTrail);
  }

  async updateTrail(arn: string, patch: TrailPatch): Promise<void> {
    const sets: string[] = [];
    const args: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      args.push(k === 's3KeyPrefix' ? orNull(v as string | null, bytes) : v);
      sets.push(`${TRAIL_PATCH_COLUMNS[k as keyof TrailPatch]} = $${args.length}`);
    }
    if (sets.length === 0) return;
    args.push(arn);
    await this.database.query(`UPDATE cloudtrail_trails SET ${sets.join(', ')} WHERE arn = $${args.length}`, args);
  }

  async deleteTrail(arn: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      for (const table of ['cloudtrail_delivery', 'cloudtrail_log_files', 'cloudtrail_pending_objects', 'cloudtrail_digest_chains']) {
        await tx.query(`DELETE FROM ${table} WHERE trail_arn = $1`, [arn]);
      }
      await tx.query('DELETE FROM cloudtrail_trails WHERE arn = $1', [arn]);
    });
  }

  async startDelivery(arn: string): Promise<void> {
    await this.database.query(
      `INSERT INTO cloudtrail_delivery (trail_arn, delivered_seq) VALUES ($1, COALESCE((SELECT seq FROM audit_checkpoint WHERE id = 1), 0))
       ON CONFLICT (trail_arn) DO UPDATE SET delivered_seq = GREATEST(cloudtrail_delivery.delivered_seq, excluded.delivered_seq)`,
      [arn],
    );
  }

  async loggingTrails(): Promise<TrailRecord[]> {
    return (await this.database.query('SELECT * FROM cloudtrail_trails WHERE is_logging ORDER BY arn')).rows.map(toTrail);
  }

  async delivery(arn: string): Promise<TrailDeliveryState | undefined> {
    const r = (await this.database.query('SELECT * FROM cloudtrail_delivery WHERE trail_arn = $1', [arn])).rows[0];
    if (!r) return undefined;
    return {
      trailArn: r.trail_arn as string,
      deliveredSeq: Number(r.delivered_seq),
      lastLogDeliveryTime: num(r.last_log_delivery_time),
      lastLogDeliveryError: r.last_log_delivery_error as string | null,
      lastDigestDeliveryTime: num(r.last_digest_delivery_time),
      lastDigestDeliveryError: r.last_digest_delivery_error as string | null,
    };
  }

  async signingKeys(region: string): Promise<SigningKeyRecord[]> {
    const { rows } = await this.database.query('SELECT * FROM cloudtrail_signing_keys WHERE region = $1 ORDER BY valid_from', [region]);
    return rows.map(toSigningKey);
  }

  async addSigningKey(k: SigningKeyRecord): Promise<void> {
    await this.database.query(
      'INSERT INTO cloudtrail_signing_keys (region, fingerprint, public_key, wrapped_private_key, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6)',
      [k.region, k.fingerprint, k.publicKey, k.wrappedPrivateKey, k.validFrom, k.validTo],
    );
  }
}
