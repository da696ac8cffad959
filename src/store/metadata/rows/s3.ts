import { BucketRecord, ObjectVersionRecord } from '../s3-types.js';
import { Row, RowDialect, text, textOrNull } from './row.js';

/**
 * The smallest byte string greater than every string that starts with `prefix` (undefined: no bound): the end of
 * a listing prefix's key range, object keys being stored as UTF-8 bytes on both backends.
 */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** What the `data` column holds: the version minus the indexed columns. */
export function versionData(v: ObjectVersionRecord): Omit<ObjectVersionRecord, 'bucket' | 'key' | 'versionId' | 'isLatest' | 'deleteMarker'> {
  const { bucket: _b, key: _k, versionId: _v, isLatest: _l, deleteMarker: _d, ...data } = v;
  return data;
}

/**
 * Rows of s3_versions and s3_buckets as records, on either backend. Names, keys and version ids are text or
 * UTF-8 bytes (object keys are bytes on both, so that they sort byte for byte; PostgreSQL keeps the rest as bytes too).
 */
export function s3Rows(d: RowDialect) {
  return {
    toVersion(r: Row): ObjectVersionRecord {
      return {
        ...(JSON.parse(String(r.data)) as ObjectVersionRecord),
        bucket: text(r.bucket),
        key: text(r.key),
        versionId: text(r.version_id),
        isLatest: d.flag(r.is_latest),
        deleteMarker: d.flag(r.delete_marker),
      };
    },

    toBucket(r: Row): BucketRecord {
      return {
        name: text(r.name),
        accountId: String(r.account_id),
        region: String(r.region),
        createdAt: Number(r.created_at),
        versioning: (r.versioning as BucketRecord['versioning']) ?? null,
        encryption: r.encryption === null ? null : JSON.parse(String(r.encryption)),
        policy: textOrNull(r.policy),
      };
    },
  };
}
