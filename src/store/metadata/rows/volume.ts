import { ChunkRef, EbsDefaults, VolumeRecord, VolumeState, applyVolumeChange } from '../volume-types.js';
import { Row, RowDialect } from './row.js';

/** A row of ebs_chunks as its ChunkRef, on either backend. */
export function toChunk(r: Row): ChunkRef {
  return {
    index: Number(r.chunk_index),
    blobId: String(r.blob_id),
    slot: Number(r.slot),
    generation: Number(r.generation),
    boundTo: String(r.bound_to),
  };
}

/** A volume's or snapshot's record: kept whole, as JSON text, in the row's data column. */
export function recordOf<T>(r: Row): T {
  return JSON.parse(String(r.data)) as T;
}

/** listVolumes and listSnapshots: the rows' records, only those whose `idColumn` is one of `ids` when ids are given. */
export function listedRecords<T>(rows: readonly Row[], idColumn: string, ids: readonly string[] | undefined): T[] {
  const only = ids ? new Set(ids) : undefined;
  return rows.filter((r) => !only || only.has(String(r[idColumn]))).map((r) => recordOf<T>(r));
}

/** A row of ebs_defaults (or none: encryption by default off) as EbsDefaults. */
export function toEbsDefaults(d: RowDialect, row: Row | undefined): EbsDefaults {
  if (!row) return { encryptionByDefault: false };
  return { encryptionByDefault: d.flag(row.encryption_by_default), ...(row.default_kms_key_id != null ? { defaultKmsKeyId: String(row.default_kms_key_id) } : {}) };
}

/**
 * updateVolume's decision on the row it read (and locked) in its transaction: the volume with `change` applied,
 * or undefined — nothing to write — when there is no such volume or it is not in `expectState`.
 */
export function changedVolume(row: Row | undefined, expectState: VolumeState | undefined, change: Parameters<typeof applyVolumeChange>[1]): VolumeRecord | undefined {
  if (!row) return undefined;
  const v = recordOf<VolumeRecord>(row);
  if (expectState !== undefined && v.state !== expectState) return undefined;
  return applyVolumeChange(v, change);
}

/**
 * reviseVolume's decision: what `decide` returns, with what the row's other columns mirror (id, account, Region,
 * state, attachment) kept as they were — a revision changes only what lives in the record alone.
 */
export function revisedVolume(v: VolumeRecord, decide: (v: VolumeRecord) => VolumeRecord): VolumeRecord {
  const next = decide(v);
  const kept: Partial<VolumeRecord> = { volumeId: v.volumeId, accountId: v.accountId, region: v.region, state: v.state };
  const out = { ...next, ...kept } as Record<string, unknown>;
  if (v.attachment) out.attachment = v.attachment;
  else delete out.attachment;
  return out as unknown as VolumeRecord;
}
