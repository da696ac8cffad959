import { grantFingerprint } from '../grant-fingerprint.js';
import { GrantCacheOptions, GrantCachingStore } from '../cached-grant-store.js';
import {
  CreateGrantResult, GrantConstraintsRecord, GrantListFilter, GrantRecord, GrantStore, NewGrant,
} from '../grant-types.js';
import { Page } from '../types.js';
import { SqliteDatabase } from './database.js';

type Row = Record<string, unknown>;

const SELECT = 'SELECT g.*, k.arn AS key_arn FROM kms_grants g JOIN kms_keys k ON k.key_id = g.key_id';

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
          .stmt(`${SELECT} WHERE g.key_id = ? AND g.name = ? AND g.fingerprint = ? ORDER BY g.seq LIMIT 1`)
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
      const row = this.database.stmt(`${SELECT} WHERE g.grant_id = ?`).get(grant.grantId) as Row;
      return { outcome: 'created', grant: toGrant(row) };
    });
  }

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    const row = this.database.stmt(`${SELECT} WHERE g.grant_id = ?`).get(grantId) as Row | undefined;
    return row ? toGrant(row) : undefined;
  }

  async listGrants(keyId: string, filter: GrantListFilter, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    const rows = this.database
      .stmt(
        `${SELECT} WHERE g.key_id = ? AND g.seq > ? AND (? IS NULL OR g.grant_id = ?) AND (? IS NULL OR g.grantee_principal = ?)
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
      .stmt(`${SELECT} WHERE g.retiring_principal = ? AND k.region = ? AND g.seq > ? ORDER BY g.seq LIMIT ?`)
      .all(retiringPrincipal, region, seqOf(after), limit + 1) as Row[];
    return page(rows, limit);
  }

  async grantsFor(keyId: string, granteePrincipal: string): Promise<readonly GrantRecord[]> {
    const rows = this.database
      .stmt(`${SELECT} WHERE g.key_id = ? AND g.grantee_principal = ? ORDER BY g.seq`)
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

function page(rows: Row[], limit: number): Page<GrantRecord> {
  const items = rows.slice(0, limit).map(toGrant);
  if (rows.length <= limit) return { items };
  return { items, next: String(rows[limit - 1]!.seq) };
}

function toGrant(r: Row): GrantRecord {
  return {
    grantId: String(r.grant_id),
    keyId: String(r.key_id),
    keyArn: String(r.key_arn),
    name: r.name === null ? null : String(r.name),
    granteePrincipal: String(r.grantee_principal),
    retiringPrincipal: r.retiring_principal === null ? null : String(r.retiring_principal),
    issuingAccountId: String(r.issuing_account_id),
    operations: JSON.parse(String(r.operations)) as string[],
    constraints: r.constraints === null ? null : toConstraints(JSON.parse(String(r.constraints)) as GrantConstraintsRecord),
    createdAt: Number(r.created_at),
  };
}

/** Maps as null-prototype objects, as the codec decodes them: a context key named "__proto__" stays data. */
function toConstraints(c: GrantConstraintsRecord): GrantConstraintsRecord {
  const map = (m: Readonly<Record<string, string>>) => {
    const out = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(m)) out[k] = v;
    return out;
  };
  return {
    ...(c.encryptionContextEquals ? { encryptionContextEquals: map(c.encryptionContextEquals) } : {}),
    ...(c.encryptionContextSubset ? { encryptionContextSubset: map(c.encryptionContextSubset) } : {}),
  };
}
