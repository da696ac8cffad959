import { SigningKeyRecord, TrailPatch, TrailRecord } from '../trail-types.js';
import { num, RowDialect, text } from './row.js';

// The trail columns hold what the record holds (text, or null), read as they come.
type Row = Record<string, any>;

/** TrailPatch fields and their columns; a patch only ever names these (never caller text in SQL). */
export const TRAIL_PATCH_COLUMNS: Record<keyof TrailPatch, string> = {
  s3BucketName: 's3_bucket_name',
  s3KeyPrefix: 's3_key_prefix',
  includeGlobalServiceEvents: 'include_global_service_events',
  isMultiRegionTrail: 'is_multi_region_trail',
  logFileValidationEnabled: 'log_file_validation_enabled',
  kmsKeyId: 'kms_key_id',
  eventSelectors: 'event_selectors',
  advancedEventSelectors: 'advanced_event_selectors',
  isLogging: 'is_logging',
  startLoggingTime: 'start_logging_time',
  stopLoggingTime: 'stop_logging_time',
};

/** Rows of cloudtrail_trails and cloudtrail_signing_keys as records, on either backend. */
export function trailRows(d: RowDialect) {
  return {
    toTrail(r: Row): TrailRecord {
      return {
        accountId: r.account_id,
        region: r.region,
        name: r.name,
        arn: r.arn,
        s3BucketName: r.s3_bucket_name,
        // PostgreSQL keeps the prefix as UTF-8 bytes (it may hold U+0000), SQLite as text.
        s3KeyPrefix: r.s3_key_prefix === null ? null : text(r.s3_key_prefix),
        snsTopicName: r.sns_topic_name,
        includeGlobalServiceEvents: d.flag(r.include_global_service_events),
        isMultiRegionTrail: d.flag(r.is_multi_region_trail),
        logFileValidationEnabled: d.flag(r.log_file_validation_enabled),
        cloudWatchLogsLogGroupArn: r.cloud_watch_logs_log_group_arn,
        cloudWatchLogsRoleArn: r.cloud_watch_logs_role_arn,
        kmsKeyId: r.kms_key_id,
        eventSelectors: r.event_selectors,
        advancedEventSelectors: r.advanced_event_selectors,
        isLogging: d.flag(r.is_logging),
        startLoggingTime: num(r.start_logging_time),
        stopLoggingTime: num(r.stop_logging_time),
        createdAt: Number(r.created_at),
      };
    },

    toSigningKey(r: Row): SigningKeyRecord {
      return {
        region: r.region,
        fingerprint: r.fingerprint,
        publicKey: r.public_key,
        wrappedPrivateKey: r.wrapped_private_key,
        validFrom: Number(r.valid_from),
        validTo: Number(r.valid_to),
      };
    },
  };
}
