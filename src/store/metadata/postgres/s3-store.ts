import { createHash } from 'node:crypto';
import { prefixEnd, s3Rows, versionData } from '../rows/s3.js';
import {
  BucketPatch, BucketRecord, ListQuery, ObjectVersionRecord, S3Store, StoredPart, UploadRecord, VersionListQuery, WriteCondition,
  WriteConditionFailed,
} from '../s3-types.js';
import { PostgresDatabase, Queryable } from './database.js';
import { bytes, POSTGRES_ROWS } from './rows.js';

const { toVersion, toBucket } = s3Rows(POSTGRES_ROWS);

/**
 * Advisory lock class of an object key's writers ("S3K"). The two-key form's space does not overlap the
 * one-key form the migrations lock in: https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
 */
const KEY_LOCK_CLASS = 0x53334b;

/** `key` range conditions for a prefix, numbered from `$n`, and their arguments (bytea compares byte by byte). */
function prefixRange(prefix: string, n: number): { sql: string; args: Buffer[] } {
  if (prefix === '') return { sql: '', args: [] };
  const start = bytes(prefix);
  const end = prefixEnd(start);
  return end ? { sql: ` AND key >= $${n} AND key < $${n + 1}`, args: [start, end] } : { sql: ` AND key >= $${n}`, args: [start] };
}

/**
 * S3 metadata on PostgreSQL (migrations/005-s3.ts), shared by every node on the database. Multi-row changes
 * run in one transaction, and every check that decides a write is made inside the transaction that commits
 * it, on locked rows, so that two nodes cannot both pass it:
 * - the writers of one object key (putVersion, deleteVersion, completeUpload) take a transaction-scoped
 *   advisory lock on (bucket, key) before reading the key's current version, so If-None-Match / If-Match
 *   see the version the previous writer committed (READ COMMITTED: each statement sees the latest commits);
 * - an upload's row is locked by putPart (parts of one upload one at a time, so the part a put replaced is
 *   the one returned), and by completeUpload and abortUpload, which delete it: a part put meanwhile waits,
 *   then finds no upload and is refused (its foreign key), never dangling;
 * - deleteBucket locks the bucket's row; writers that add a version or an upload hold a KEY SHARE lock on it
 *   (explicitly, or through the foreign key), so the emptiness check and the writes are ordered.
 * Locks are always taken in the order bucket → upload → key, so these transactions cannot deadlock.
 * Nothing is cached: every read sees what any node committed.
 */
export class PostgresS3Store implements S3Store {
  constructor(private readonly db: PostgresDatabase) {}

  async createBucket(b: BucketRecord): Promise<boolean> {
    const res = await this.db.query(
      'INSERT INTO s3_buckets (name, account_id, region, created_at, versioning, encryption, policy) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING',
      [bytes(b.name), b.accountId, b.region, b.createdAt, b.versioning, b.encryption === null ? null : JSON.stringify(b.encryption), b.policy === null ? null : bytes(b.policy)],
    );
    return res.rowCount === 1;
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const row = (await this.db.query('SELECT * FROM s3_buckets WHERE name = $1', [bytes(name)])).rows[0];
    return row ? toBucket(row) : undefined;
  }

  async listBuckets(accountId: string): Promise<BucketRecord[]> {
    return (await this.db.query('SELECT * FROM s3_buckets WHERE account_id = $1 ORDER BY name', [accountId])).rows.map(toBucket);
  }

  async updateBucket(name: string, patch: BucketPatch): Promise<BucketRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const row = (await tx.query('SELECT * FROM s3_buckets WHERE name = $1 FOR NO KEY UPDATE', [bytes(name)])).rows[0];
      if (!row) return undefined;
      const b = { ...toBucket(row), ...patch };
      await tx.query('UPDATE s3_buckets SET versioning = $1, encryption = $2, policy = $3 WHERE name = $4', [
        b.versioning,
        b.encryption === null ? null : JSON.stringify(b.encryption),
        b.policy === null ? null : bytes(b.policy),
        bytes(name),
      ]);
      return b;
    });
  }

  async deleteBucket(name: string): Promise<{ readonly abortedParts: StoredPart[] } | 'missing' | 'not-empty'> {
    const n = bytes(name);
    return this.db.transaction(async (tx) => {
      if ((await tx.query('SELECT 1 FROM s3_buckets WHERE name = $1 FOR UPDATE', [n])).rows.length === 0) return 'missing';
      if ((await tx.query('SELECT 1 FROM s3_versions WHERE bucket = $1 LIMIT 1', [n])).rows.length > 0) return 'not-empty';
      // The uploads still in progress are aborted with the bucket, all or nothing. Their rows are locked first,
      // so a part being put meanwhile is either committed (and returned here) or refused after.
      await tx.query('SELECT 1 FROM s3_uploads WHERE bucket = $1 FOR UPDATE', [n]);
      const abortedParts = (
        await tx.query('DELETE FROM s3_parts WHERE upload_id IN (SELECT upload_id FROM s3_uploads WHERE bucket = $1) RETURNING data', [n])
      ).rows.map((r) => JSON.parse(String(r.data)) as StoredPart);
      await tx.query('DELETE FROM s3_uploads WHERE bucket = $1', [n]);
      await tx.query('DELETE FROM s3_buckets WHERE name = $1', [n]);
      return { abortedParts };
    });
  }

  async putVersion(version: ObjectVersionRecord, versioned: boolean, condition?: WriteCondition): Promise<ObjectVersionRecord[]> {
    return this.db.transaction(async (tx) => {
      await lockBucket(tx, version.bucket);
      await lockKey(tx, version.bucket, version.key);
      if (condition) await checkCondition(tx, version.bucket, version.key, condition);
      return insertVersion(tx, version, versioned);
    });
  }

  async getVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersionRecord | undefined> {
    const row = (versionId === undefined
      ? await this.db.query('SELECT * FROM s3_versions WHERE bucket = $1 AND key = $2 AND is_latest', [bytes(bucket), bytes(key)])
      : await this.db.query('SELECT * FROM s3_versions WHERE bucket = $1 AND key = $2 AND version_id = $3', [bytes(bucket), bytes(key), bytes(versionId)])
    ).rows[0];
    return row ? toVersion(row) : undefined;
  }

  async deleteVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersionRecord | undefined> {
    const [b, k] = [bytes(bucket), bytes(key)];
    return this.db.transaction(async (tx) => {
      await lockKey(tx, bucket, key);
      const row = (await tx.query('DELETE FROM s3_versions WHERE bucket = $1 AND key = $2 AND version_id = $3 RETURNING *', [b, k, bytes(versionId)])).rows[0];
      if (!row) return undefined;
      if (row.is_latest === true) {
        await tx.query(
          'UPDATE s3_versions SET is_latest = true WHERE seq = (SELECT seq FROM s3_versions WHERE bucket = $1 AND key = $2 ORDER BY seq DESC LIMIT 1)',
          [b, k],
        );
      }
      return toVersion(row);
    });
  }

  async listLatest(bucket: string, q: ListQuery): Promise<ObjectVersionRecord[]> {
    const range = prefixRange(q.prefix, 4);
    const { rows } = await this.db.query(
      `SELECT * FROM s3_versions WHERE bucket = $1 AND is_latest AND NOT delete_marker AND key > $2${range.sql} ORDER BY key LIMIT $3`,
      [bytes(bucket), bytes(q.after), q.limit, ...range.args],
    );
    return rows.map(toVersion);
  }

  async listVersions(bucket: string, q: VersionListQuery): Promise<ObjectVersionRecord[]> {
    const b = bytes(bucket);
    const marker = bytes(q.keyMarker);
    let after = 'key > $3';
    const args: unknown[] = [b, q.limit, marker];
    if (q.versionIdMarker !== '') {
      // Versions of the marker key older than the marker version, then later keys.
      const m = (await this.db.query('SELECT seq FROM s3_versions WHERE bucket = $1 AND key = $2 AND version_id = $3', [b, marker, bytes(q.versionIdMarker)])).rows[0];
      if (m) {
        after = '(key > $3 OR (key = $3 AND seq < $4))';
        args.push(m.seq);
      }
    }
    const range = prefixRange(q.prefix, args.length + 1);
    const { rows } = await this.db.query(
      `SELECT * FROM s3_versions WHERE bucket = $1 AND ${after}${range.sql} ORDER BY key, seq DESC LIMIT $2`,
      [...args, ...range.args],
    );
    return rows.map(toVersion);
  }

  async createUpload(u: UploadRecord): Promise<void> {
    await this.db.query('INSERT INTO s3_uploads (upload_id, bucket, key, initiated, data) VALUES ($1, $2, $3, $4, $5)', [
      bytes(u.uploadId),
      bytes(u.bucket),
      bytes(u.key),
      u.initiated,
      JSON.stringify(u),
    ]);
  }

  async getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord | undefined> {
    const row = (await this.db.query('SELECT data FROM s3_uploads WHERE upload_id = $1 AND bucket = $2 AND key = $3', [bytes(uploadId), bytes(bucket), bytes(key)])).rows[0];
    return row ? (JSON.parse(String(row.data)) as UploadRecord) : undefined;
  }

  async putPart(uploadId: string, part: StoredPart): Promise<StoredPart | undefined> {
    const u = bytes(uploadId);
    return this.db.transaction(async (tx) => {
      if ((await tx.query('SELECT 1 FROM s3_uploads WHERE upload_id = $1 FOR NO KEY UPDATE', [u])).rows.length === 0) {
        throw new Error('putPart: the upload does not exist');
      }
      const old = (await tx.query('SELECT data FROM s3_parts WHERE upload_id = $1 AND part_number = $2', [u, part.partNumber])).rows[0];
      await tx.query(
        'INSERT INTO s3_parts (upload_id, part_number, data) VALUES ($1, $2, $3) ON CONFLICT (upload_id, part_number) DO UPDATE SET data = EXCLUDED.data',
        [u, part.partNumber, JSON.stringify(part)],
      );
      return old ? (JSON.parse(String(old.data)) as StoredPart) : undefined;
    });
  }

  async listParts(uploadId: string, afterPart: number, limit: number): Promise<StoredPart[]> {
    const { rows } = await this.db.query('SELECT data FROM s3_parts WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3', [
      bytes(uploadId),
      afterPart,
      limit,
    ]);
    return rows.map((r) => JSON.parse(String(r.data)) as StoredPart);
  }

  async listUploads(bucket: string, prefix: string, keyMarker: string, uploadIdMarker: string, limit: number): Promise<UploadRecord[]> {
    const args: unknown[] = [bytes(bucket), limit, bytes(keyMarker)];
    // No upload-id marker: every upload of the marker key is skipped.
    let after = 'key > $3';
    if (uploadIdMarker !== '') {
      after = '(key > $3 OR (key = $3 AND upload_id > $4))';
      args.push(bytes(uploadIdMarker));
    }
    const range = prefixRange(prefix, args.length + 1);
    const { rows } = await this.db.query(`SELECT data FROM s3_uploads WHERE bucket = $1 AND ${after}${range.sql} ORDER BY key, upload_id LIMIT $2`, [
      ...args,
      ...range.args,
    ]);
    return rows.map((r) => JSON.parse(String(r.data)) as UploadRecord);
  }

  async completeUpload(uploadId: string, version: ObjectVersionRecord, versioned: boolean, condition?: WriteCondition): Promise<{ replaced: ObjectVersionRecord[]; unused: StoredPart[] } | undefined> {
    const u = bytes(uploadId);
    return this.db.transaction(async (tx) => {
      await lockBucket(tx, version.bucket);
      if ((await tx.query('SELECT 1 FROM s3_uploads WHERE upload_id = $1 FOR UPDATE', [u])).rows.length === 0) return undefined;
      await lockKey(tx, version.bucket, version.key);
      const used = new Set(version.parts.map((p) => p.blobId));
      const all = (await tx.query('SELECT data FROM s3_parts WHERE upload_id = $1', [u])).rows.map((r) => JSON.parse(String(r.data)) as StoredPart);
      // A part replaced since the caller read it has lost its blob: refuse rather than commit a broken object.
      const current = new Set(all.map((p) => p.blobId));
      if (![...used].every((id) => current.has(id))) throw new Error('completeUpload: a part was replaced while the upload completed');
      // Checked before the upload goes: a failed condition rolls the transaction back, the upload stays.
      if (condition) await checkCondition(tx, version.bucket, version.key, condition);
      await tx.query('DELETE FROM s3_uploads WHERE upload_id = $1', [u]);
      const replaced = await insertVersion(tx, version, versioned);
      return { replaced, unused: all.filter((p) => !used.has(p.blobId)) };
    });
  }

  async abortUpload(uploadId: string): Promise<StoredPart[] | undefined> {
    const u = bytes(uploadId);
    return this.db.transaction(async (tx) => {
      if ((await tx.query('SELECT 1 FROM s3_uploads WHERE upload_id = $1 FOR UPDATE', [u])).rows.length === 0) return undefined;
      const parts = (await tx.query('DELETE FROM s3_parts WHERE upload_id = $1 RETURNING data', [u])).rows.map((r) => JSON.parse(String(r.data)) as StoredPart);
      await tx.query('DELETE FROM s3_uploads WHERE upload_id = $1', [u]);
      return parts;
    });
  }

  /** A write that returned is committed, and PostgreSQL's commit is durable (synchronous_commit on). */
  async durable(): Promise<void> {}

  async getServiceKey(): Promise<Buffer | undefined> {
    const row = (await this.db.query('SELECT wrapped FROM s3_service_key WHERE id = 1')).rows[0];
    return row ? (row.wrapped as Buffer) : undefined;
  }

  async putServiceKey(wrapped: Buffer): Promise<Buffer> {
    await this.db.query('INSERT INTO s3_service_key (id, wrapped) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [wrapped]);
    return (await this.getServiceKey())!;
  }

  async referencedBlobs(): Promise<Set<string>> {
    // The parts' blob ids are picked out in the database: the rest of each row need not cross the wire.
    // (json, not jsonb: it reads the text as it is, \u0000 escapes included.)
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT p->>'blobId' AS id FROM s3_versions, json_array_elements(data::json->'parts') AS p
       UNION SELECT data::json->>'blobId' FROM s3_parts`,
    );
    return new Set(rows.map((r) => r.id));
  }
}

/** KEY SHARE on the bucket's row: deleteBucket (FOR UPDATE) waits for this transaction, or it for deleteBucket. */
async function lockBucket(tx: Queryable, bucket: string): Promise<void> {
  if ((await tx.query('SELECT 1 FROM s3_buckets WHERE name = $1 FOR KEY SHARE', [bytes(bucket)])).rows.length === 0) {
    throw new Error('the bucket does not exist');
  }
}

/**
 * Serialises the writers of one object key on every node until this transaction ends. The lock is a 32-bit
 * hash of (bucket, key): two keys that collide only wait for each other, never share a version.
 */
async function lockKey(tx: Queryable, bucket: string, key: string): Promise<void> {
  const b = bytes(bucket);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  const h = createHash('sha256').update(len).update(b).update(bytes(key)).digest();
  await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [KEY_LOCK_CLASS, h.readInt32BE(0)]);
}

/** A conditional write's check, after lockKey in the write's own transaction (see the class comment). */
async function checkCondition(tx: Queryable, bucket: string, key: string, condition: WriteCondition): Promise<void> {
  const current = (await tx.query('SELECT delete_marker, data FROM s3_versions WHERE bucket = $1 AND key = $2 AND is_latest', [bytes(bucket), bytes(key)])).rows[0];
  const exists = current !== undefined && current.delete_marker === false;
  if (condition.ifNoneMatch && exists) throw new WriteConditionFailed('exists');
  if (condition.ifMatch !== undefined) {
    if (!exists) throw new WriteConditionFailed('missing');
    if ((JSON.parse(String(current.data)) as { etag: string }).etag !== condition.ifMatch) throw new WriteConditionFailed('etag');
  }
}

/** Writes a version as the key's latest, after lockKey; returns the 'null' version it replaced, if any. */
async function insertVersion(tx: Queryable, version: ObjectVersionRecord, versioned: boolean): Promise<ObjectVersionRecord[]> {
  const [b, k] = [bytes(version.bucket), bytes(version.key)];
  let replaced: ObjectVersionRecord[] = [];
  if (!versioned || version.versionId === 'null') {
    replaced = (await tx.query("DELETE FROM s3_versions WHERE bucket = $1 AND key = $2 AND version_id = 'null'::bytea RETURNING *", [b, k])).rows.map(toVersion);
  }
  await tx.query('UPDATE s3_versions SET is_latest = false WHERE bucket = $1 AND key = $2 AND is_latest', [b, k]);
  await tx.query('INSERT INTO s3_versions (bucket, key, version_id, is_latest, delete_marker, data) VALUES ($1, $2, $3, true, $4, $5)', [
    b,
    k,
    bytes(version.versionId),
    version.deleteMarker,
    JSON.stringify(versionData(version)),
  ]);
  return replaced;
}
