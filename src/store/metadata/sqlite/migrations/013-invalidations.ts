/**
 * Cache invalidations between processes on one data dir (issue 10, `--workers N` on SQLite, which has no
 * LISTEN/NOTIFY): a writer inserts (topic, key), every process polls for ids after the last it saw
 * (SqliteInvalidationPort). `origin` names the port that published, so it skips its own rows; `at` (ms since
 * the epoch) lets writers prune rows older than a minute. AUTOINCREMENT: ids are never reused, so a reader's
 * "after the last id I saw" stays right across pruning, and a gap tells it rows were pruned before it read them.
 */
export const M013_INVALIDATIONS = `
  CREATE TABLE invalidations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT,
    origin TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX invalidations_at ON invalidations(at);
`;
