/**
 * Migration 012: leases for work that must happen once across processes and nodes (src/core/leases).
 * A row stays once made: releasing sets expires_at to 0, so the fencing token keeps growing.
 */
export const M012_LEASES = `
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    token INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;
`;
