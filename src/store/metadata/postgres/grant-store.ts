import { grantFingerprint } from '../grant-fingerprint.js';
import {
  CreateGrantResult, GrantListFilter, GrantRecord, GrantStore, NewGrant,
} from '../grant-types.js';
import { GRANT_SELECT, grantRows } from '../rows/grant.js';
import { Page } from '../types.js';
import { PostgresDatabase } from './database.js';
import { POSTGRES_ROWS, seqAfter } from './rows.js';

const { toGrant, page } = grantRows(POSTGRES_ROWS);

/**
 * KMS grants on PostgreSQL (table kms_grants, migrations/002-kms-grants.ts). CreateGrant's idempotence
 * check, quota check and insert run in one transaction that first locks the key's row: grant creations on one
 * key are serialised across every node, so two concurrent requests can neither both pass the quota nor both
 * create a grant under the same Name and parameters (READ COMMITTED alone would let both read "not there").
 */
export class PostgresGrantStore implements GrantStore {
  constructor(private readonly database: PostgresDatabase) {}

  async createGrant(grant: NewGrant, maxPerKey: number): Promise<CreateGrantResult> {
    const fingerprint = grantFingerprint(grant);
    return this.database.transaction(async (tx): Promise<CreateGrantResult> => {
      // No row when the key does not exist: the insert's foreign key then fails, as the interface requires.
      await tx.query('SELECT 1 FROM kms_keys WHERE key_id = $1 FOR UPDATE', [grant.keyId]);
      if (grant.name !== null) {
        const same = (
          await tx.query(`${GRANT_SELECT} WHERE g.key_id = $1 AND g.name = $2 AND g.fingerprint = $3 ORDER BY g.seq LIMIT 1`, [
            grant.keyId,
            grant.name,
            fingerprint,
          ])
        ).rows[0];
        if (same) return { outcome: 'existing', grant: toGrant(same) };
      }
      const { n } = (await tx.query('SELECT COUNT(*) AS n FROM kms_grants WHERE key_id = $1', [grant.keyId])).rows[0]!;
      if (Number(n) >= maxPerKey) return { outcome: 'limit-exceeded' };
      await tx.query(
        `INSERT INTO kms_grants (grant_id, key_id, name, grantee_principal, retiring_principal, issuing_account_id,
           operations, constraints, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          grant.grantId,
          grant.keyId,
          grant.name,
          grant.granteePrincipal,
          grant.retiringPrincipal,
          grant.issuingAccountId,
          JSON.stringify(grant.operations), // as JSON text: pg would send a JS array as a PostgreSQL array
          grant.constraints === null ? null : JSON.stringify(grant.constraints),
          fingerprint,
          grant.createdAt,
        ],
      );
      const row = (await tx.query(`${GRANT_SELECT} WHERE g.grant_id = $1`, [grant.grantId])).rows[0]!;
      return { outcome: 'created', grant: toGrant(row) };
    });
  }

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    const row = (await this.database.query(`${GRANT_SELECT} WHERE g.grant_id = $1`, [grantId])).rows[0];
    return row ? toGrant(row) : undefined;
  }

  async listGrants(keyId: string, filter: GrantListFilter, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    const { rows } = await this.database.query(
      `${GRANT_SELECT} WHERE g.key_id = $1 AND g.seq > $2 AND ($3::text IS NULL OR g.grant_id = $3)
         AND ($4::text IS NULL OR g.grantee_principal = $4) ORDER BY g.seq LIMIT $5`,
      [keyId, seqAfter(after), filter.grantId ?? null, filter.granteePrincipal ?? null, limit + 1],
    );
    return page(rows, limit);
  }

  async listRetirableGrants(retiringPrincipal: string, region: string, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    const { rows } = await this.database.query(
      `${GRANT_SELECT} WHERE g.retiring_principal = $1 AND k.region = $2 AND g.seq > $3 ORDER BY g.seq LIMIT $4`,
      [retiringPrincipal, region, seqAfter(after), limit + 1],
    );
    return page(rows, limit);
  }

  async grantsFor(keyId: string, granteePrincipal: string): Promise<readonly GrantRecord[]> {
    const { rows } = await this.database.query(`${GRANT_SELECT} WHERE g.key_id = $1 AND g.grantee_principal = $2 ORDER BY g.seq`, [
      keyId,
      granteePrincipal,
    ]);
    return rows.map(toGrant);
  }

  async deleteGrant(keyId: string, grantId: string): Promise<boolean> {
    const res = await this.database.query('DELETE FROM kms_grants WHERE key_id = $1 AND grant_id = $2', [keyId, grantId]);
    return (res.rowCount ?? 0) > 0;
  }

  async countGrants(keyId: string): Promise<number> {
    return Number((await this.database.query('SELECT COUNT(*) AS n FROM kms_grants WHERE key_id = $1', [keyId])).rows[0]!.n);
  }
}
