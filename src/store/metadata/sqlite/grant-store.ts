import { grantFingerprint } from '../grant-fingerprint.js';
import { GrantCacheOptions, GrantCachingStore } from '../cached-grant-store.js';
import {
  CreateGrantResult, GrantListFilter, GrantRecord, GrantStore, NewGrant,
} from '../grant-types.js';
import { GRANT_SELECT, grantRows } from '../rows/grant.js';
import { Page } from '../types.js';
import { SqliteDatabase } from './database.js';
import { SQLITE_ROWS } from './rows.js';

type Row = Record<string, unknown>;

const { toGrant, page } = grantRows(SQLITE_ROWS);

/**
 * KMS grants on the shared SQLite database (table kms_grants, migration 002). better-sqlite3 is synchronous:
 * CreateGrant's idempotence check, quota check and insert run in one transaction, so two concurrent
 * requests cannot both pass the quota or both create a grant under the same Name and parameters.
 */
export class SqliteGrantStore implements GrantStore {
  constructor(private readonly database: SqliteDatabase) {}

  async createGrant(grant: NewGrant, maxPerKey: number): Promise<CreateGrantResult> {
    const fingerprint = grantFingerprint(grant);
    return this.database.transaction((): CreateGrantResult => {
      if (grant.name !== null) {
        const same = this.database
          .stmt(`${GRANT_SELECT} WHERE g.key_id = ? AND g.name = ? AND g.fingerprint = ? ORDER BY g.seq LIMIT 1`)
          .get(grant.keyId, grant.name, fingerprint) as Row | undefined;
        if (same) return { outcome: 'existing', grant: toGrant(same) };
      }
      const { n } = this.database.stmt('SELECT COUNT(*) AS n FROM kms_grants WHERE key_id = ?').get(grant.keyId) as Row;
      if (Number(n) >= maxPerKey) return { outcome: 'limit-exceeded' };
      this.database
        .stmt(
          `INSERT INTO kms_grants (grant_id, key_id, name, grantee_principal, retiring_principal, issuing_account_id,
             operations, constraints, fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          grant.grantId,
          grant.keyId,
          grant.name,
          grant.granteePrincipal,
          grant.retiringPrincipal,
          grant.issuingAccountId,
          JSON.stringify(grant.operations),
          grant.constraints === null ? null : JSON.stringify(grant.constraints),
          fingerprint,
          grant.createdAt,
        );
      const row = this.database.stmt(`${GRANT_SELECT} WHERE g.grant_id = ?`).get(grant.grantId) as Row;
      return { outcome: 'created', grant: toGrant(row) };
    });
  }

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    const row = this.database.stmt(`${GRANT_SELECT} WHERE g.grant_id = ?`).get(grantId) as Row | undefined;
    return row ? toGrant(row) : undefined;
  }

  async listGrants(keyId: string, filter: GrantListFilter, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    const rows = this.database
      .stmt(
        `${GRANT_SELECT} WHERE g.key_id = ? AND g.seq > ? AND (? IS NULL OR g.grant_id = ?) AND (? IS NULL OR g.grantee_principal = ?)
         ORDER BY g.seq LIMIT ?`,
      )
      .all(
        keyId,
        seqOf(after),
        filter.grantId ?? null,
        filter.grantId ?? null,
        filter.granteePrincipal ?? null,
        filter.granteePrincipal ?? null,
        limit + 1,
      ) as Row[];
    return page(rows, limit);
  }

  async listRetirableGrants(retiringPrincipal: string, region: string, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    const rows = this.database
      .stmt(`${GRANT_SELECT} WHERE g.retiring_principal = ? AND k.region = ? AND g.seq > ? ORDER BY g.seq LIMIT ?`)
      .all(retiringPrincipal, region, seqOf(after), limit + 1) as Row[];
    return page(rows, limit);
  }

  async grantsFor(keyId: string, granteePrincipal: string): Promise<readonly GrantRecord[]> {
    const rows = this.database
      .stmt(`${GRANT_SELECT} WHERE g.key_id = ? AND g.grantee_principal = ? ORDER BY g.seq`)
      .all(keyId, granteePrincipal) as Row[];
    return rows.map(toGrant);
  }

  async deleteGrant(keyId: string, grantId: string): Promise<boolean> {
    return this.database.stmt('DELETE FROM kms_grants WHERE key_id = ? AND grant_id = ?').run(keyId, grantId).changes > 0;
  }

  async countGrants(keyId: string): Promise<number> {
    return Number((this.database.stmt('SELECT COUNT(*) AS n FROM kms_grants WHERE key_id = ?').get(keyId) as Row).n);
  }
}

/** The grant store app.ts wires: SQLite on the shared database, behind the authorization-path cache. */
export function sqliteGrantStore(database: SqliteDatabase, cache: GrantCacheOptions = {}): GrantStore {
  return new GrantCachingStore(new SqliteGrantStore(database), cache);
}

function seqOf(after: string | undefined): number {
  return after === undefined ? 0 : Number(after);
}
