import { RowDialect } from '../rows/row.js';

export { num, text } from '../rows/row.js';

/** `pg` parses json columns and returns booleans as booleans. */
export const POSTGRES_ROWS: RowDialect = {
  json: (v) => v,
  flag: (v) => v === true,
};

/**
 * A seq page marker as a bigint parameter. The KMS layer checks a marker's prefix, not what follows it, so a
 * forged one reaches the store: one that is not a seq pages past the end (an empty page), as SQLite's
 * comparison with NULL does, instead of a bigint syntax error from PostgreSQL.
 */
export function seqAfter(after: string | undefined): string {
  if (after === undefined) return '0';
  return /^\d{1,18}$/.test(after) ? after : '9223372036854775807';
}

/**
 * Free text stored as UTF-8 bytes (bytea), for what PostgreSQL's text type cannot hold: U+0000
 * (migrations/004-kms-text-bytes.ts). `bytes` when writing, `text` (rows/row.ts) when reading.
 */
export const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
