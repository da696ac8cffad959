/**
 * Reading PostgreSQL rows. `pg` returns bigint (int8) and COUNT(*) as strings, since they may exceed 2^53;
 * Strongroom's bigints are epoch milliseconds, counters and sequence numbers, far below that.
 */
export const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * A seq page marker as a bigint parameter. The KMS layer checks a marker's prefix, not what follows it, so a
 * forged one reaches the store: one that is not a seq pages past the end (an empty page), as SQLite's
 * comparison with NULL does, instead of a bigint syntax error from PostgreSQL.
 */
export function seqAfter(after: string | undefined): string {
  if (after === undefined) return '0';
  return /^\d{1,18}$/.test(after) ? after : '9223372036854775807';
}
