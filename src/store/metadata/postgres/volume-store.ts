import { ChunkRef, EbsDefaults, SnapshotChange, SnapshotListFilter, SnapshotRecord, VolumeListFilter, VolumeRecord, VolumeState, VolumeStore, applySnapshotChange } from '../volume-types.js';
import { PostgresDatabase, Queryable } from './database.js';
import { changedVolume, listedRecords, recordOf, revisedVolume, toChunk, toEbsDefaults } from '../rows/volume.js';
import { POSTGRES_ROWS } from './rows.js';

/** Volumes and snapshots in PostgreSQL (migration 012), as the SQLite store; a statement that returned is committed. */
export class PostgresVolumeStore implements VolumeStore {
  constructor(private readonly database: PostgresDatabase) {}

  async createVolume(v: VolumeRecord): Promise<void> {
    await this.database.query('INSERT INTO ebs_volumes (volume_id, account_id, region, state, attached, data) VALUES ($1, $2, $3, $4, $5, $6)', [
      v.volumeId, v.accountId, v.region, v.state, v.attachment !== undefined, JSON.stringify(v),
    ]);
  }

  async getVolume(volumeId: string): Promise<VolumeRecord | undefined> {
    const { rows } = await this.database.query('SELECT data FROM ebs_volumes WHERE volume_id = $1', [volumeId]);
    return rows[0] ? recordOf<VolumeRecord>(rows[0]) : undefined;
  }

  async listVolumes(f: VolumeListFilter): Promise<VolumeRecord[]> {
    const { rows } = await this.database.query('SELECT volume_id, data FROM ebs_volumes WHERE account_id = $1 AND region = $2 ORDER BY volume_id', [f.accountId, f.region]);
    return listedRecords<VolumeRecord>(rows, 'volume_id', f.ids);
  }

  async attachedVolumes(): Promise<VolumeRecord[]> {
    const { rows } = await this.database.query('SELECT data FROM ebs_volumes WHERE attached ORDER BY volume_id');
    return rows.map((r) => recordOf<VolumeRecord>(r));
  }

  async updateVolume(
    volumeId: string,
    expectState: VolumeState | undefined,
    change: Partial<Pick<VolumeRecord, 'state' | 'tags'>> & { attachment?: VolumeRecord['attachment'] | null },
  ): Promise<boolean> {
    return this.database.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT data FROM ebs_volumes WHERE volume_id = $1 FOR UPDATE', [volumeId]);
      const next = changedVolume(rows[0], expectState, change);
      if (!next) return false;
      await tx.query('UPDATE ebs_volumes SET state = $1, attached = $2, data = $3 WHERE volume_id = $4', [next.state, next.attachment !== undefined, JSON.stringify(next), volumeId]);
      return true;
    });
  }

  async reviseVolume(volumeId: string, decide: (v: VolumeRecord) => VolumeRecord): Promise<VolumeRecord | undefined> {
    return this.database.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT data FROM ebs_volumes WHERE volume_id = $1 FOR UPDATE', [volumeId]);
      if (!rows[0]) return undefined;
      const next = revisedVolume(recordOf<VolumeRecord>(rows[0]), decide);
      await tx.query('UPDATE ebs_volumes SET data = $1 WHERE volume_id = $2', [JSON.stringify(next), volumeId]);
      return next;
    });
  }

  async deleteVolume(volumeId: string): Promise<string[]> {
    return this.database.transaction(async (tx) => {
      const blobs = await ownerBlobs(tx, volumeId);
      await tx.query('DELETE FROM ebs_chunks WHERE owner_id = $1', [volumeId]);
      await tx.query('DELETE FROM ebs_volumes WHERE volume_id = $1', [volumeId]);
      await tx.query('DELETE FROM ebs_generations WHERE owner_id = $1', [volumeId]);
      return blobs;
    });
  }

  async createSnapshot(s: SnapshotRecord, chunksFrom?: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      await tx.query('INSERT INTO ebs_snapshots (snapshot_id, account_id, region, data) VALUES ($1, $2, $3, $4)', [s.snapshotId, s.accountId, s.region, JSON.stringify(s)]);
      if (chunksFrom !== undefined) await copy(tx, chunksFrom, s.snapshotId);
    });
  }

  async getSnapshot(snapshotId: string): Promise<SnapshotRecord | undefined> {
    const { rows } = await this.database.query('SELECT data FROM ebs_snapshots WHERE snapshot_id = $1', [snapshotId]);
    return rows[0] ? recordOf<SnapshotRecord>(rows[0]) : undefined;
  }

  async listSnapshots(f: SnapshotListFilter): Promise<SnapshotRecord[]> {
    const { rows } =
      f.accountId === undefined
        ? await this.database.query('SELECT snapshot_id, data FROM ebs_snapshots WHERE region = $1 ORDER BY snapshot_id', [f.region])
        : await this.database.query('SELECT snapshot_id, data FROM ebs_snapshots WHERE account_id = $1 AND region = $2 ORDER BY snapshot_id', [f.accountId, f.region]);
    return listedRecords<SnapshotRecord>(rows, 'snapshot_id', f.ids);
  }

  async updateSnapshot(snapshotId: string, change: SnapshotChange): Promise<void> {
    await this.database.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT data FROM ebs_snapshots WHERE snapshot_id = $1 FOR UPDATE', [snapshotId]);
      if (!rows[0]) return;
      const s = applySnapshotChange(recordOf<SnapshotRecord>(rows[0]), change);
      await tx.query('UPDATE ebs_snapshots SET data = $1 WHERE snapshot_id = $2', [JSON.stringify(s), snapshotId]);
    });
  }

  async deleteSnapshot(snapshotId: string): Promise<string[]> {
    return this.database.transaction(async (tx) => {
      const blobs = await ownerBlobs(tx, snapshotId);
      await tx.query('DELETE FROM ebs_chunks WHERE owner_id = $1', [snapshotId]);
      await tx.query('DELETE FROM ebs_snapshots WHERE snapshot_id = $1', [snapshotId]);
      await tx.query('DELETE FROM ebs_generations WHERE owner_id = $1', [snapshotId]);
      return blobs;
    });
  }

  async chunks(ownerId: string): Promise<ChunkRef[]> {
    const { rows } = await this.database.query('SELECT * FROM ebs_chunks WHERE owner_id = $1 ORDER BY chunk_index', [ownerId]);
    return rows.map(toChunk);
  }

  async chunk(ownerId: string, index: number): Promise<ChunkRef | undefined> {
    const { rows } = await this.database.query('SELECT * FROM ebs_chunks WHERE owner_id = $1 AND chunk_index = $2', [ownerId, index]);
    return rows[0] ? toChunk(rows[0]) : undefined;
  }

  async copyChunks(fromOwner: string, toOwner: string): Promise<void> {
    await this.database.transaction((tx) => copy(tx, fromOwner, toOwner));
  }

  async commitChunks(ownerId: string, put: readonly ChunkRef[], drop: readonly number[]): Promise<string[]> {
    return this.database.transaction(async (tx) => {
      const indexes = [...drop, ...put.map((c) => c.index)];
      const { rows } = await tx.query('DELETE FROM ebs_chunks WHERE owner_id = $1 AND chunk_index = ANY($2::bigint[]) RETURNING blob_id', [ownerId, indexes]);
      const replaced = new Set(rows.map((r) => String(r.blob_id)));
      if (put.length > 0) {
        await tx.query(
          `INSERT INTO ebs_chunks (owner_id, chunk_index, blob_id, slot, generation, bound_to)
           SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::int[], $5::bigint[], $6::text[])`,
          [ownerId, put.map((c) => c.index), put.map((c) => c.blobId), put.map((c) => c.slot), put.map((c) => c.generation), put.map((c) => c.boundTo)],
        );
        for (const c of put) replaced.delete(c.blobId);
      }
      return [...replaced];
    });
  }

  async reserveGenerations(ownerId: string, count: number): Promise<number> {
    const { rows } = await this.database.query(
      `INSERT INTO ebs_generations (owner_id, next) VALUES ($1, 1 + $2)
       ON CONFLICT (owner_id) DO UPDATE SET next = ebs_generations.next + $2 RETURNING next`,
      [ownerId, count],
    );
    return Number(rows[0]!.next) - count;
  }

  async addSegment(blobId: string, ownerId: string): Promise<void> {
    await this.database.query('INSERT INTO ebs_segments (blob_id, owner_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [blobId, ownerId]);
  }

  async orphanSegments(ownerId: string): Promise<string[]> {
    const { rows } = await this.database.query(
      'SELECT s.blob_id FROM ebs_segments s WHERE s.owner_id = $1 AND NOT EXISTS (SELECT 1 FROM ebs_chunks c WHERE c.blob_id = s.blob_id)',
      [ownerId],
    );
    return rows.map((r) => String(r.blob_id));
  }

  async dropSegmentIfUnreferenced(blobId: string): Promise<boolean> {
    return this.database.transaction(async (tx) => {
      // Locks the segment's row: two collectors never both decide, and a copy of its chunks cannot interleave.
      const seg = await tx.query('SELECT 1 FROM ebs_segments WHERE blob_id = $1 FOR UPDATE', [blobId]);
      const { rows } = await tx.query('SELECT 1 FROM ebs_chunks WHERE blob_id = $1 LIMIT 1', [blobId]);
      if (rows.length > 0) return false;
      if (seg.rows.length > 0) await tx.query('DELETE FROM ebs_segments WHERE blob_id = $1', [blobId]);
      return true;
    });
  }

  async segmentUsers(blobId: string, limit: number): Promise<{ ownerId: string; index: number }[]> {
    const { rows } = await this.database.query('SELECT owner_id, chunk_index FROM ebs_chunks WHERE blob_id = $1 LIMIT $2', [blobId, limit]);
    return rows.map((r) => ({ ownerId: String(r.owner_id), index: Number(r.chunk_index) }));
  }

  async getDefaults(accountId: string, region: string): Promise<EbsDefaults> {
    const { rows } = await this.database.query('SELECT * FROM ebs_defaults WHERE account_id = $1 AND region = $2', [accountId, region]);
    return toEbsDefaults(POSTGRES_ROWS, rows[0]);
  }

  async putDefaults(accountId: string, region: string, d: EbsDefaults): Promise<void> {
    await this.database.query(
      `INSERT INTO ebs_defaults (account_id, region, encryption_by_default, default_kms_key_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (account_id, region) DO UPDATE SET encryption_by_default = $3, default_kms_key_id = $4`,
      [accountId, region, d.encryptionByDefault, d.defaultKmsKeyId ?? null],
    );
  }

  async getServiceKey(): Promise<Buffer | undefined> {
    const { rows } = await this.database.query('SELECT wrapped FROM ebs_service_key WHERE id = 1');
    return rows[0] ? (rows[0].wrapped as Buffer) : undefined;
  }

  async putServiceKey(wrapped: Buffer): Promise<Buffer> {
    await this.database.query('INSERT INTO ebs_service_key (id, wrapped) VALUES (1, $1) ON CONFLICT DO NOTHING', [wrapped]);
    return (await this.getServiceKey())!;
  }
}

/** What deleting ownerId leaves to collect: the segments its chunks reference and those it wrote and never committed (SqliteVolumeStore#ownerBlobs). */
async function ownerBlobs(tx: Queryable, ownerId: string): Promise<string[]> {
  const { rows } = await tx.query('SELECT blob_id FROM ebs_chunks WHERE owner_id = $1 UNION SELECT blob_id FROM ebs_segments WHERE owner_id = $1', [ownerId]);
  return rows.map((r) => String(r.blob_id));
}

async function copy(tx: Queryable, fromOwner: string, toOwner: string): Promise<void> {
  await tx.query(
    `INSERT INTO ebs_chunks (owner_id, chunk_index, blob_id, slot, generation, bound_to)
     SELECT $1, chunk_index, blob_id, slot, generation, bound_to FROM ebs_chunks WHERE owner_id = $2
     ON CONFLICT (owner_id, chunk_index) DO UPDATE SET blob_id = EXCLUDED.blob_id, slot = EXCLUDED.slot, generation = EXCLUDED.generation, bound_to = EXCLUDED.bound_to`,
    [toOwner, fromOwner],
  );
}
