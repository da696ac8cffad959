/**
 * Leases for work that must happen once across nodes (src/core/leases), as SQLite's migration 012. A row stays
 * once made: releasing sets expires_at to 0, so the fencing token keeps growing.
 */
export const P006_LEASES = `
  CREATE TABLE leases (
    name text COLLATE "C" PRIMARY KEY,
    holder text NOT NULL,
    token bigint NOT NULL,
    expires_at bigint NOT NULL
  );
`;
