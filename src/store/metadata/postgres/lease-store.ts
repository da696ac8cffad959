import { Clock } from '../../../core/clock.js';
import { Lease, Leases } from '../../../core/leases/leases.js';
import { PostgresDatabase } from './database.js';

interface Row {
  holder: string;
  token: string | number;
  expires_at: string | number;
}

const lease = (name: string, r: Row): Lease => ({ name, holder: r.holder, token: Number(r.token), expiresAt: Number(r.expires_at) });

/**
 * Leases in PostgreSQL (migration 006). tryAcquire is one INSERT … ON CONFLICT DO UPDATE … WHERE: the row is
 * locked for the statement, so of the nodes racing for a lease one takes it and the others' WHERE finds it
 * live and held by someone else (no row returned). Times are the injected clock's, as SQLite's store.
 */
export class PostgresLeaseStore implements Leases {
  constructor(
    private readonly database: PostgresDatabase,
    private readonly clock: Clock,
  ) {}

  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    const now = this.clock.now();
    const { rows } = await this.database.query<Row>(
      `INSERT INTO leases (name, holder, token, expires_at) VALUES ($1, $2, 1, $4)
       ON CONFLICT (name) DO UPDATE SET
         token = CASE WHEN leases.holder = $2 AND leases.expires_at > $3 THEN leases.token ELSE leases.token + 1 END,
         holder = $2,
         expires_at = $4
       WHERE leases.holder = $2 OR leases.expires_at <= $3
       RETURNING holder, token, expires_at`,
      [name, holder, now, now + ttlMs],
    );
    return rows[0] && lease(name, rows[0]);
  }

  async release(name: string, holder: string, token: number): Promise<void> {
    await this.database.query('UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2 AND token = $3', [name, holder, token]);
  }

  /** One UPDATE … WHERE holder and token: a racing UPDATE waits for the row and then finds another holder. */
  async takeOver(name: string, deadHolder: string, deadToken: number, newHolder: string, ttlMs: number): Promise<Lease | undefined> {
    const { rows } = await this.database.query<Row>(
      `UPDATE leases SET holder = $4, token = token + 1, expires_at = $5
       WHERE name = $1 AND holder = $2 AND token = $3
       RETURNING holder, token, expires_at`,
      [name, deadHolder, deadToken, newHolder, this.clock.now() + ttlMs],
    );
    return rows[0] && lease(name, rows[0]);
  }

  async current(name: string): Promise<Lease | undefined> {
    const { rows } = await this.database.query<Row>('SELECT holder, token, expires_at FROM leases WHERE name = $1', [name]);
    return rows[0] && lease(name, rows[0]);
  }
}
