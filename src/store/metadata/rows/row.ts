/**
 * Reading rows, backend-neutral: the mappers in this folder turn a row of either backend (SQLite, PostgreSQL)
 * into its record. A backend may import them; nothing here imports a backend. What truly differs between the
 * two drivers is passed in as a RowDialect (sqlite/rows.ts, postgres/rows.ts).
 */
export type Row = Record<string, unknown>;

/** How each driver hands back the column types the two schemas store differently. */
export interface RowDialect {
  /** A JSON column: SQLite stores the JSON text; `pg` parses json columns itself. */
  json(v: unknown): unknown;
  /** A boolean column: SQLite's INTEGER 0/1; PostgreSQL's boolean. */
  flag(v: unknown): boolean;
}

/**
 * A nullable number column. `pg` returns bigint (int8) and COUNT(*) as strings, since they may exceed 2^53;
 * Strongroom's bigints are epoch milliseconds, counters and sequence numbers, far below that.
 */
export const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Free text, stored as text or as UTF-8 bytes (bytea/BLOB, for what PostgreSQL's text type cannot hold:
 * U+0000, postgres/migrations/004-kms-text-bytes.ts; S3 object keys on SQLite).
 */
export const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

/** A nullable free text column. */
export const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : text(v));
