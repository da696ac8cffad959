import { ChunkRef, EbsDefaults, SnapshotChange, SnapshotListFilter, SnapshotRecord, VolumeListFilter, VolumeRecord, VolumeState, VolumeStore, applySnapshotChange } from '../volume-types.js';
import { SqliteDatabase } from './database.js';
import { Row } from '../rows/row.js';
import { changedVolume, listedRecords, recordOf, revisedVolume, toChunk, toEbsDefaults } from '../rows/volume.js';
import { SQLITE_ROWS } from './rows.js';

/**
 * Volumes and snapshots in the SQLite database (migration 016). Writes are plain transactions: a flush of a
 * volume calls `durable()` after its commit; EC2 calls are made durable by their audit record's sync, later
 * in the same WAL.
 */
export class SqliteVolumeStore implements VolumeStore {
  constructor(private readonly database: SqliteDatabase) {}

  async createVolume(v: VolumeRecord): Promise<void> {
    this.database
      .stmt('INSERT INTO ebs_volumes (volume_id, account_id, region, state, attached, data) VALUES (?, ?, ?, ?, ?, ?)')
      .run(v.volumeId, v.accountId, v.region, v.state, v.attachment ? 1 : 0, JSON.stringify(v));
  }

  async getVolume(volumeId: string): Promise<VolumeRecord | undefined> {
    const row = this.database.stmt('SELECT data FROM ebs_volumes WHERE volume_id = ?').get(volumeId) as Row | undefined;
    return row ? recordOf<VolumeRecord>(row) : undefined;
  }

  async listVolumes(f: VolumeListFilter): Promise<VolumeRecord[]> {
    const rows = this.database.stmt('SELECT volume_id, data FROM ebs_volumes WHERE account_id = ? AND region = ? ORDER BY volume_id').all(f.accountId, f.region) as Row[];
    return listedRecords<VolumeRecord>(rows, 'volume_id', f.ids);
  }

  async attachedVolumes(): Promise<VolumeRecord[]> {
    const rows = this.database.stmt('SELECT data FROM ebs_volumes WHERE attached = 1 ORDER BY volume_id').all() as Row[];
    return rows.map((r) => recordOf<VolumeRecord>(r));
  }

  async updateVolume(
    volumeId: string,
    expectState: VolumeState | undefined,
    change: Partial<Pick<VolumeRecord, 'state' | 'tags'>> & { attachment?: VolumeRecord['attachment'] | null },
  ): Promise<boolean> {
    const d = this.database;
    return d.transaction(() => {
      const row = d.stmt('SELECT data FROM ebs_volumes WHERE volume_id = ?').get(volumeId) as Row | undefined;
      const next = changedVolume(row, expectState, change);
      if (!next) return false;
      d.stmt('UPDATE ebs_volumes SET state = ?, attached = ?, data = ? WHERE volume_id = ?').run(next.state, next.attachment ? 1 : 0, JSON.stringify(next), volumeId);
      return true;
    });
  }

  async reviseVolume(volumeId: string, decide: (v: VolumeRecord) => VolumeRecord): Promise<VolumeRecord | undefined> {
    const d = this.database;
    return d.transaction(() => {
      const row = d.stmt('SELECT data FROM ebs_volumes WHERE volume_id = ?').get(volumeId) as Row | undefined;
      if (!row) return undefined;
      const next = revisedVolume(recordOf<VolumeRecord>(row), decide);
      d.stmt('UPDATE ebs_volumes SET data = ? WHERE volume_id = ?').run(JSON.stringify(next), volumeId);
      return next;
    });
  }

  async deleteVolume(volumeId: string): Promise<string[]> {
    const d = this.database;
    return d.transaction(() => {
      const blobs = this.#ownerBlobs(volumeId);
      d.stmt('DELETE FROM ebs_chunks WHERE owner_id = ?').run(volumeId);
      d.stmt('DELETE FROM ebs_volumes WHERE volume_id = ?').run(volumeId);
      d.stmt('DELETE FROM ebs_generations WHERE owner_id = ?').run(volumeId);
      return blobs;
    });
  }

  async createSnapshot(s: SnapshotRecord, chunksFrom?: string): Promise<void> {
    const d = this.database;
    d.transaction(() => {
      d.stmt('INSERT INTO ebs_snapshots (snapshot_id, account_id, region, data) VALUES (?, ?, ?, ?)').run(s.snapshotId, s.accountId, s.region, JSON.stringify(s));
      if (chunksFrom !== undefined) this.#copy(chunksFrom, s.snapshotId);
    });
  }

  async getSnapshot(snapshotId: string): Promise<SnapshotRecord | undefined> {
    const row = this.database.stmt('SELECT data FROM ebs_snapshots WHERE snapshot_id = ?').get(snapshotId) as Row | undefined;
    return row ? recordOf<SnapshotRecord>(row) : undefined;
  }

  async listSnapshots(f: SnapshotListFilter): Promise<SnapshotRecord[]> {
    const rows = (
      f.accountId === undefined
        ? this.database.stmt('SELECT snapshot_id, data FROM ebs_snapshots WHERE region = ? ORDER BY snapshot_id').all(f.region)
        : this.database.stmt('SELECT snapshot_id, data FROM ebs_snapshots WHERE account_id = ? AND region = ? ORDER BY snapshot_id').all(f.accountId, f.region)
    ) as Row[];
    return listedRecords<SnapshotRecord>(rows, 'snapshot_id', f.ids);
  }

  async updateSnapshot(snapshotId: string, change: SnapshotChange): Promise<void> {
    const d = this.database;
    d.transaction(() => {
      const row = d.stmt('SELECT data FROM ebs_snapshots WHERE snapshot_id = ?').get(snapshotId) as Row | undefined;
      if (!row) return;
      const s = applySnapshotChange(recordOf<SnapshotRecord>(row), change);
      d.stmt('UPDATE ebs_snapshots SET data = ? WHERE snapshot_id = ?').run(JSON.stringify(s), snapshotId);
    });
  }

  async deleteSnapshot(snapshotId: string): Promise<string[]> {
    const d = this.database;
    return d.transaction(() => {
      const blobs = this.#ownerBlobs(snapshotId);
      d.stmt('DELETE FROM ebs_chunks WHERE owner_id = ?').run(snapshotId);
      d.stmt('DELETE FROM ebs_snapshots WHERE snapshot_id = ?').run(snapshotId);
      d.stmt('DELETE FROM ebs_generations WHERE owner_id = ?').run(snapshotId);
      return blobs;
    });
  }

  async chunks(ownerId: string): Promise<ChunkRef[]> {
    return (this.database.stmt('SELECT * FROM ebs_chunks WHERE owner_id = ? ORDER BY chunk_index').all(ownerId) as Row[]).map(toChunk);
  }

  async chunk(ownerId: string, index: number): Promise<ChunkRef | undefined> {
    const row = this.database.stmt('SELECT * FROM ebs_chunks WHERE owner_id = ? AND chunk_index = ?').get(ownerId, index) as Row | undefined;
    return row ? toChunk(row) : undefined;
  }

  async copyChunks(fromOwner: string, toOwner: string): Promise<void> {
    this.database.transaction(() => this.#copy(fromOwner, toOwner));
  }

  async commitChunks(ownerId: string, put: readonly ChunkRef[], drop: readonly number[]): Promise<string[]> {
    const d = this.database;
    return d.transaction(() => {
      const replaced = new Set<string>();
      const old = d.stmt('SELECT blob_id FROM ebs_chunks WHERE owner_id = ? AND chunk_index = ?');
      const del = d.stmt('DELETE FROM ebs_chunks WHERE owner_id = ? AND chunk_index = ?');
      const ins = d.stmt('INSERT OR REPLACE INTO ebs_chunks (owner_id, chunk_index, blob_id, slot, generation, bound_to) VALUES (?, ?, ?, ?, ?, ?)');
      for (const index of drop) {
        const r = old.get(ownerId, index) as Row | undefined;
        if (r) replaced.add(String(r.blob_id));
        del.run(ownerId, index);
      }
      for (const c of put) {
        const r = old.get(ownerId, c.index) as Row | undefined;
        if (r && String(r.blob_id) !== c.blobId) replaced.add(String(r.blob_id));
        ins.run(ownerId, c.index, c.blobId, c.slot, c.generation, c.boundTo);
      }
      return [...replaced];
    });
  }

  async reserveGenerations(ownerId: string, count: number): Promise<number> {
    const d = this.database;
    const first = d.transaction(() => {
      const row = d.stmt('SELECT next FROM ebs_generations WHERE owner_id = ?').get(ownerId) as Row | undefined;
      const start = row ? Number(row.next) : 1;
      d.stmt('INSERT OR REPLACE INTO ebs_generations (owner_id, next) VALUES (?, ?)').run(ownerId, start + count);
      return start;
    });
    // Durable before any of them seals a chunk: a crash must not hand the same generation out twice.
    await this.database.durable();
    return first;
  }

  async addSegment(blobId: string, ownerId: string): Promise<void> {
    this.database.stmt('INSERT OR IGNORE INTO ebs_segments (blob_id, owner_id) VALUES (?, ?)').run(blobId, ownerId);
  }

  async orphanSegments(ownerId: string): Promise<string[]> {
    const rows = this.database
      .stmt('SELECT s.blob_id FROM ebs_segments s WHERE s.owner_id = ? AND NOT EXISTS (SELECT 1 FROM ebs_chunks c WHERE c.blob_id = s.blob_id)')
      .all(ownerId) as Row[];
    return rows.map((r) => String(r.blob_id));
  }

  async dropSegmentIfUnreferenced(blobId: string): Promise<boolean> {
    const d = this.database;
    return d.transaction(() => {
      if (d.stmt('SELECT 1 FROM ebs_chunks WHERE blob_id = ? LIMIT 1').get(blobId)) return false;
      d.stmt('DELETE FROM ebs_segments WHERE blob_id = ?').run(blobId);
      return true;
    });
  }

  async segmentUsers(blobId: string, limit: number): Promise<{ ownerId: string; index: number }[]> {
    const rows = this.database.stmt('SELECT owner_id, chunk_index FROM ebs_chunks WHERE blob_id = ? LIMIT ?').all(blobId, limit) as Row[];
    return rows.map((r) => ({ ownerId: String(r.owner_id), index: Number(r.chunk_index) }));
  }

  async getDefaults(accountId: string, region: string): Promise<EbsDefaults> {
    const row = this.database.stmt('SELECT * FROM ebs_defaults WHERE account_id = ? AND region = ?').get(accountId, region) as Row | undefined;
    return toEbsDefaults(SQLITE_ROWS, row);
  }

  async putDefaults(accountId: string, region: string, d: EbsDefaults): Promise<void> {
    this.database
      .stmt('INSERT OR REPLACE INTO ebs_defaults (account_id, region, encryption_by_default, default_kms_key_id) VALUES (?, ?, ?, ?)')
      .run(accountId, region, d.encryptionByDefault ? 1 : 0, d.defaultKmsKeyId ?? null);
  }

  async getServiceKey(): Promise<Buffer | undefined> {
    const row = this.database.stmt('SELECT wrapped FROM ebs_service_key WHERE id = 1').get() as Row | undefined;
    return row ? (row.wrapped as Buffer) : undefined;
  }

  async putServiceKey(wrapped: Buffer): Promise<Buffer> {
    this.database.stmt('INSERT OR IGNORE INTO ebs_service_key (id, wrapped) VALUES (1, ?)').run(wrapped);
    await this.database.durable();
    return (await this.getServiceKey())!;
  }

  /**
   * What deleting ownerId leaves to collect: the segments its chunks reference and those it wrote and never
   * committed (a crash between a segment write and the commit, a failed reseal) — a volume deleted without
   * being opened again would otherwise keep those files forever.
   */
  #ownerBlobs(ownerId: string): string[] {
    const rows = this.database.stmt('SELECT blob_id FROM ebs_chunks WHERE owner_id = ? UNION SELECT blob_id FROM ebs_segments WHERE owner_id = ?').all(ownerId, ownerId) as Row[];
    return rows.map((r) => String(r.blob_id));
  }

  #copy(fromOwner: string, toOwner: string): void {
    this.database
      .stmt('INSERT OR REPLACE INTO ebs_chunks (owner_id, chunk_index, blob_id, slot, generation, bound_to) SELECT ?, chunk_index, blob_id, slot, generation, bound_to FROM ebs_chunks WHERE owner_id = ?')
      .run(toOwner, fromOwner);
  }
}
