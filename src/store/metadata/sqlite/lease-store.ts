import { Clock } from '../../../core/clock.js';
import { Lease, Leases } from '../../../core/leases/leases.js';
import { SqliteDatabase } from './database.js';

interface Row {
  holder: string;
  token: number;
  expires_at: number;
}

/**
 * Leases in the shared SQLite database (migration 012). Each call is one BEGIN IMMEDIATE transaction: the
 * read and the write happen under the write lock, so two processes on one data dir never both acquire.
 */
export class SqliteLeaseStore implements Leases {
  constructor(
    private readonly database: SqliteDatabase,
    private readonly clock: Clock,
  ) {}

  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    const d = this.database;
    return d.transaction(() => {
      const now = this.clock.now();
      const expiresAt = now + ttlMs;
      const row = d.stmt('SELECT holder, token, expires_at FROM leases WHERE name = ?').get(name) as Row | undefined;
      if (!row) {
        d.stmt('INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, 1, ?)').run(name, holder, expiresAt);
        return { name, holder, token: 1, expiresAt };
      }
      const live = row.expires_at > now;
      if (live && row.holder !== holder) return undefined;
      const token = live ? row.token : row.token + 1;
      d.stmt('UPDATE leases SET holder = ?, token = ?, expires_at = ? WHERE name = ?').run(holder, token, expiresAt, name);
      return { name, holder, token, expiresAt };
    });
  }

  async release(name: string, holder: string, token: number): Promise<void> {
    this.database.transaction(() => {
      this.database.stmt('UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND token = ?').run(name, holder, token);
    });
  }

  async takeOver(name: string, deadHolder: string, deadToken: number, newHolder: string, ttlMs: number): Promise<Lease | undefined> {
    const d = this.database;
    return d.transaction(() => {
      const expiresAt = this.clock.now() + ttlMs;
      const changed = d
        .stmt('UPDATE leases SET holder = ?, token = token + 1, expires_at = ? WHERE name = ? AND holder = ? AND token = ?')
        .run(newHolder, expiresAt, name, deadHolder, deadToken).changes;
      return changed === 1 ? { name, holder: newHolder, token: deadToken + 1, expiresAt } : undefined;
    });
  }

  async current(name: string): Promise<Lease | undefined> {
    const row = this.database.stmt('SELECT holder, token, expires_at FROM leases WHERE name = ?').get(name) as Row | undefined;
    return row && { name, holder: row.holder, token: row.token, expiresAt: row.expires_at };
  }
}
