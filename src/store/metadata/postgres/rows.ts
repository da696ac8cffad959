/**
 * Reading PostgreSQL rows. `pg` returns bigint (int8) and COUNT(*) as strings, since they may exceed 2^53;
 * Strongroom's bigints are epoch milliseconds, counters and sequence numbers, far below that.
 */
export const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
