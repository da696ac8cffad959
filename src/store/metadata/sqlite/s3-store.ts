import { prefixEnd, s3Rows, versionData } from '../rows/s3.js';
import {
  BucketPatch, BucketRecord, ListQuery, ObjectVersionRecord, S3Store, StoredPart, UploadRecord, VersionListQuery, WriteCondition,
  WriteConditionFailed,
} from '../s3-types.js';
import { SqliteDatabase } from './database.js';
import { SQLITE_ROWS } from './rows.js';

type Row = Record<string, unknown>;

const { toVersion, toBucket } = s3Rows(SQLITE_ROWS);

/** Object keys are stored as their UTF-8 bytes: BLOB comparison is S3's listing order. */
const keyBytes = (key: string): Buffer => Buffer.from(key, 'utf8');

/** `key` range conditions for a prefix, and their arguments. */
function prefixRange(prefix: string): { sql: string; args: Buffer[] } {
  if (prefix === '') return { sql: '', args: [] };
  const start = keyBytes(prefix);
  const end = prefixEnd(start);
  return end ? { sql: ' AND key >= ? AND key < ?', args: [start, end] } : { sql: ' AND key >= ?', args: [start] };
}

/**
 * Writes on the request path commit in groups and do not wait for their own fsync: the S3 service answers
 * only after the call's audit record is durable, and that sync (later in the same WAL) covers them. Other
 * writers call `durable()` themselves.
 */
const NOT_YET_DURABLE = { durable: false } as const;

/**
 * S3 metadata on the shared SQLite database (migration 008). Multi-row changes run in one transaction.
 * Reads go to the database: bucket records are cached above it (BucketCachingStore), where changes made by
 * other processes are heard.
 */
export class SqliteS3Store implements S3Store {
  constructor(private readonly database: SqliteDatabase) {}

  async createBucket(b: BucketRecord): Promise<boolean> {
    const res = this.database
      .stmt('INSERT OR IGNORE INTO s3_buckets (name, account_id, region, created_at, versioning, encryption, policy) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(b.name, b.accountId, b.region, b.createdAt, b.versioning, b.encryption === null ? null : JSON.stringify(b.encryption), b.policy);
    return res.changes === 1;
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const row = this.database.stmt('SELECT * FROM s3_buckets WHERE name = ?').get(name) as Row | undefined;
    return row ? toBucket(row) : undefined;
  }

  async listBuckets(accountId: string): Promise<BucketRecord[]> {
    return (this.database.stmt('SELECT * FROM s3_buckets WHERE account_id = ? ORDER BY name').all(accountId) as Row[]).map(toBucket);
  }

  async updateBucket(name: string, patch: BucketPatch): Promise<BucketRecord | undefined> {
    const d = this.database;
    return d.transaction(() => {
      const row = d.stmt('SELECT * FROM s3_buckets WHERE name = ?').get(name) as Row | undefined;
      if (!row) return undefined;
      const b = { ...toBucket(row), ...patch };
      d.stmt('UPDATE s3_buckets SET versioning = ?, encryption = ?, policy = ? WHERE name = ?').run(
        b.versioning,
        b.encryption === null ? null : JSON.stringify(b.encryption),
        b.policy,
        name,
      );
      return b;
    });
  }

  async deleteBucket(name: string): Promise<{ readonly abortedParts: StoredPart[] } | 'missing' | 'not-empty'> {
    const d = this.database;
    return d.transaction(() => {
      if (!d.stmt('SELECT 1 FROM s3_buckets WHERE name = ?').get(name)) return 'missing';
      if (d.stmt('SELECT 1 FROM s3_versions WHERE bucket = ? LIMIT 1').get(name)) return 'not-empty';
      // The uploads still in progress are aborted with the bucket, all or nothing (their parts cascade).
      const abortedParts = (d.stmt('SELECT p.data FROM s3_parts p JOIN s3_uploads u ON u.upload_id = p.upload_id WHERE u.bucket = ?').all(name) as Row[])
        .map((r) => JSON.parse(String(r.data)) as StoredPart);
      d.stmt('DELETE FROM s3_uploads WHERE bucket = ?').run(name);
      d.stmt('DELETE FROM s3_buckets WHERE name = ?').run(name);
      return { abortedParts };
    });
  }

  async putVersion(version: ObjectVersionRecord, versioned: boolean, condition?: WriteCondition): Promise<ObjectVersionRecord[]> {
    // Grouped: concurrent PUTs share one commit (one fsync) instead of paying one each.
    return this.database.grouped(() => this.#insertVersion(version, versioned, condition), NOT_YET_DURABLE);
  }

  /**
   * A conditional write's check, inside the write's own transaction (savepoint): SQLite runs one writer at
   * a time, so of two creates of one key the second sees the first's version and fails.
   */
  #checkCondition(bucket: string, key: Buffer, condition: WriteCondition): void {
    const current = this.database
      .stmt("SELECT delete_marker, json_extract(data, '$.etag') AS etag FROM s3_versions WHERE bucket = ? AND key = ? AND is_latest = 1")
      .get(bucket, key) as Row | undefined;
    const exists = current !== undefined && current.delete_marker === 0;
    if (condition.ifNoneMatch && exists) throw new WriteConditionFailed('exists');
    if (condition.ifMatch !== undefined) {
      if (!exists) throw new WriteConditionFailed('missing');
      if (current.etag !== condition.ifMatch) throw new WriteConditionFailed('etag');
    }
  }

  #insertVersion(version: ObjectVersionRecord, versioned: boolean, condition?: WriteCondition): ObjectVersionRecord[] {
    const d = this.database;
    const key = keyBytes(version.key);
    if (condition) this.#checkCondition(version.bucket, key, condition);
    let replaced: ObjectVersionRecord[] = [];
    if (!versioned || version.versionId === 'null') {
      replaced = (d.stmt("SELECT * FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = 'null'").all(version.bucket, key) as Row[]).map(toVersion);
      d.stmt("DELETE FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = 'null'").run(version.bucket, key);
    }
    d.stmt('UPDATE s3_versions SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1').run(version.bucket, key);
    d.stmt('INSERT INTO s3_versions (bucket, key, version_id, is_latest, delete_marker, data) VALUES (?, ?, ?, 1, ?, ?)').run(
      version.bucket,
      key,
      version.versionId,
      version.deleteMarker ? 1 : 0,
      JSON.stringify(versionData(version)),
    );
    return replaced;
  }

  async getVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersionRecord | undefined> {
    const row = (versionId === undefined
      ? this.database.stmt('SELECT * FROM s3_versions WHERE bucket = ? AND key = ? AND is_latest = 1').get(bucket, keyBytes(key))
      : this.database.stmt('SELECT * FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = ?').get(bucket, keyBytes(key), versionId)) as Row | undefined;
    return row ? toVersion(row) : undefined;
  }

  async deleteVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersionRecord | undefined> {
    const d = this.database;
    const k = keyBytes(key);
    return d.grouped(() => {
      const row = d.stmt('SELECT * FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = ?').get(bucket, k, versionId) as Row | undefined;
      if (!row) return undefined;
      d.stmt('DELETE FROM s3_versions WHERE seq = ?').run(row.seq);
      if (row.is_latest === 1) {
        d.stmt(
          'UPDATE s3_versions SET is_latest = 1 WHERE seq = (SELECT seq FROM s3_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1)',
        ).run(bucket, k);
      }
      return toVersion(row);
    }, NOT_YET_DURABLE);
  }

  async listLatest(bucket: string, q: ListQuery): Promise<ObjectVersionRecord[]> {
    const range = prefixRange(q.prefix);
    const rows = this.database
      .stmt(`SELECT * FROM s3_versions WHERE bucket = ? AND is_latest = 1 AND delete_marker = 0 AND key > ?${range.sql} ORDER BY key LIMIT ?`)
      .all(bucket, keyBytes(q.after), ...range.args, q.limit) as Row[];
    return rows.map(toVersion);
  }

  async listVersions(bucket: string, q: VersionListQuery): Promise<ObjectVersionRecord[]> {
    const range = prefixRange(q.prefix);
    const marker = keyBytes(q.keyMarker);
    let after = 'key > ?';
    const args: unknown[] = [marker];
    if (q.versionIdMarker !== '') {
      // Versions of the marker key older than the marker version, then later keys.
      const m = this.database.stmt('SELECT seq FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = ?').get(bucket, marker, q.versionIdMarker) as Row | undefined;
      if (m) {
        after = '(key > ? OR (key = ? AND seq < ?))';
        args.push(marker, m.seq);
      }
    }
    const rows = this.database
      .stmt(`SELECT * FROM s3_versions WHERE bucket = ? AND ${after}${range.sql} ORDER BY key, seq DESC LIMIT ?`)
      .all(bucket, ...args, ...range.args, q.limit) as Row[];
    return rows.map(toVersion);
  }

  async createUpload(u: UploadRecord): Promise<void> {
    this.database
      .stmt('INSERT INTO s3_uploads (upload_id, bucket, key, initiated, data) VALUES (?, ?, ?, ?, ?)')
      .run(u.uploadId, u.bucket, keyBytes(u.key), u.initiated, JSON.stringify(u));
  }

  async getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord | undefined> {
    const row = this.database.stmt('SELECT data FROM s3_uploads WHERE upload_id = ? AND bucket = ? AND key = ?').get(uploadId, bucket, keyBytes(key)) as Row | undefined;
    return row ? (JSON.parse(String(row.data)) as UploadRecord) : undefined;
  }

  async putPart(uploadId: string, part: StoredPart): Promise<StoredPart | undefined> {
    const d = this.database;
    return d.grouped(() => {
      const old = d.stmt('SELECT data FROM s3_parts WHERE upload_id = ? AND part_number = ?').get(uploadId, part.partNumber) as Row | undefined;
      d.stmt('INSERT OR REPLACE INTO s3_parts (upload_id, part_number, data) VALUES (?, ?, ?)').run(uploadId, part.partNumber, JSON.stringify(part));
      return old ? (JSON.parse(String(old.data)) as StoredPart) : undefined;
    }, NOT_YET_DURABLE);
  }

  async listParts(uploadId: string, afterPart: number, limit: number): Promise<StoredPart[]> {
    const rows = this.database
      .stmt('SELECT data FROM s3_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?')
      .all(uploadId, afterPart, limit) as Row[];
    return rows.map((r) => JSON.parse(String(r.data)) as StoredPart);
  }

  async listUploads(bucket: string, prefix: string, keyMarker: string, uploadIdMarker: string, limit: number): Promise<UploadRecord[]> {
    const range = prefixRange(prefix);
    const marker = keyBytes(keyMarker);
    const rows = this.database
      .stmt(`SELECT data FROM s3_uploads WHERE bucket = ? AND (key > ? OR (key = ? AND upload_id > ?))${range.sql} ORDER BY key, upload_id LIMIT ?`)
      .all(bucket, marker, marker, uploadIdMarker === '' ? '\uffff' : uploadIdMarker, ...range.args, limit) as Row[];
    return rows.map((r) => JSON.parse(String(r.data)) as UploadRecord);
  }

  async completeUpload(uploadId: string, version: ObjectVersionRecord, versioned: boolean, condition?: WriteCondition): Promise<{ replaced: ObjectVersionRecord[]; unused: StoredPart[] } | undefined> {
    const d = this.database;
    return d.grouped(() => {
      if (!d.stmt('SELECT 1 FROM s3_uploads WHERE upload_id = ?').get(uploadId)) return undefined;
      const used = new Set(version.parts.map((p) => p.blobId));
      const all = (d.stmt('SELECT data FROM s3_parts WHERE upload_id = ?').all(uploadId) as Row[]).map((r) => JSON.parse(String(r.data)) as StoredPart);
      // A part replaced since the caller read it has lost its blob: refuse rather than commit a broken object.
      const current = new Set(all.map((p) => p.blobId));
      if (![...used].every((id) => current.has(id))) throw new Error('completeUpload: a part was replaced while the upload completed');
      // Checked before the upload goes: a failed condition leaves the upload as it was (the savepoint rolls back).
      if (condition) this.#checkCondition(version.bucket, keyBytes(version.key), condition);
      d.stmt('DELETE FROM s3_uploads WHERE upload_id = ?').run(uploadId);
      const replaced = this.#insertVersion(version, versioned);
      return { replaced, unused: all.filter((p) => !used.has(p.blobId)) };
    }, NOT_YET_DURABLE);
  }

  async abortUpload(uploadId: string): Promise<StoredPart[] | undefined> {
    const d = this.database;
    return d.grouped(() => {
      if (!d.stmt('SELECT 1 FROM s3_uploads WHERE upload_id = ?').get(uploadId)) return undefined;
      const parts = (d.stmt('SELECT data FROM s3_parts WHERE upload_id = ?').all(uploadId) as Row[]).map((r) => JSON.parse(String(r.data)) as StoredPart);
      d.stmt('DELETE FROM s3_uploads WHERE upload_id = ?').run(uploadId);
      return parts;
    }, NOT_YET_DURABLE);
  }

  durable(): Promise<void> {
    return this.database.durable();
  }

  async getServiceKey(): Promise<Buffer | undefined> {
    const row = this.database.stmt('SELECT wrapped FROM s3_service_key WHERE id = 1').get() as Row | undefined;
    return row ? (row.wrapped as Buffer) : undefined;
  }

  async putServiceKey(wrapped: Buffer): Promise<Buffer> {
    this.database.stmt('INSERT OR IGNORE INTO s3_service_key (id, wrapped) VALUES (1, ?)').run(wrapped);
    return (await this.getServiceKey())!;
  }

  async referencedBlobs(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const r of this.database.stmt('SELECT data FROM s3_versions').iterate() as IterableIterator<Row>) {
      for (const p of (JSON.parse(String(r.data)) as { parts: StoredPart[] }).parts) ids.add(p.blobId);
    }
    for (const r of this.database.stmt('SELECT data FROM s3_parts').iterate() as IterableIterator<Row>) {
      ids.add((JSON.parse(String(r.data)) as StoredPart).blobId);
    }
    return ids;
  }
}
