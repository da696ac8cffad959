import { CustomKeyStoreConflict, CustomKeyStorePatch, CustomKeyStoreRecord, CustomKeyStoreStore, XksKeyRecord } from '../custom-key-store-types.js';
import { Page } from '../types.js';
import { PostgresDatabase, Queryable } from './database.js';

const uriOf = (r: Pick<CustomKeyStoreRecord, 'uriEndpoint' | 'uriPath'>) => `${r.uriEndpoint}${r.uriPath}`;

/**
 * Custom key stores and XKS key associations in PostgreSQL (migration 015), as the SQLite store. Writes that
 * check uniqueness first take a transaction-scoped advisory lock on the account, so two nodes creating at
 * once cannot both pass the check (the unique indexes stand behind it).
 */
export class PostgresCustomKeyStoreStore implements CustomKeyStoreStore {
  constructor(private readonly database: PostgresDatabase) {}

  async createCustomKeyStore(r: CustomKeyStoreRecord): Promise<void> {
    await this.database.transaction(async (tx) => {
      await lockAccount(tx, r.accountId);
      await checkFree(tx, r, undefined);
      await tx.query('INSERT INTO kms_custom_key_stores (id, account_id, region, name, uri, data) VALUES ($1, $2, $3, $4, $5, $6)', [r.id, r.accountId, r.region, r.name, uriOf(r), JSON.stringify(r)]);
    });
  }

  async getCustomKeyStore(id: string): Promise<CustomKeyStoreRecord | undefined> {
    const { rows } = await this.database.query('SELECT data FROM kms_custom_key_stores WHERE id = $1', [id]);
    return rows[0] ? (JSON.parse(String(rows[0].data)) as CustomKeyStoreRecord) : undefined;
  }

  async listCustomKeyStores(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<CustomKeyStoreRecord>> {
    const { rows } = await this.database.query(
      'SELECT id, data FROM kms_custom_key_stores WHERE account_id = $1 AND region = $2 AND id > $3 ORDER BY id LIMIT $4',
      [accountId, region, after ?? '', limit + 1],
    );
    const items = rows.slice(0, limit).map((r) => JSON.parse(String(r.data)) as CustomKeyStoreRecord);
    return rows.length > limit ? { items, next: items[items.length - 1]!.id } : { items };
  }

  async updateCustomKeyStore(id: string, patch: CustomKeyStorePatch): Promise<CustomKeyStoreRecord | undefined> {
    return this.database.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT account_id, data FROM kms_custom_key_stores WHERE id = $1', [id]);
      if (!rows[0]) return undefined;
      await lockAccount(tx, String(rows[0].account_id));
      const again = await tx.query('SELECT data FROM kms_custom_key_stores WHERE id = $1 FOR UPDATE', [id]);
      if (!again.rows[0]) return undefined;
      const next: CustomKeyStoreRecord = { ...(JSON.parse(String(again.rows[0].data)) as CustomKeyStoreRecord), ...patch };
      await checkFree(tx, next, id);
      await tx.query('UPDATE kms_custom_key_stores SET name = $1, uri = $2, data = $3 WHERE id = $4', [next.name, uriOf(next), JSON.stringify(next), id]);
      return next;
    });
  }

  async deleteCustomKeyStore(id: string): Promise<boolean> {
    return this.database.transaction(async (tx) => {
      await tx.query('DELETE FROM kms_xks_keys WHERE custom_key_store_id = $1', [id]);
      const res = await tx.query('DELETE FROM kms_custom_key_stores WHERE id = $1', [id]);
      return (res.rowCount ?? 0) > 0;
    });
  }

  async reserveXksKey(r: XksKeyRecord): Promise<boolean> {
    return this.database.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kms-xks:${r.customKeyStoreId}`]);
      const { rows } = await tx.query('SELECT key_id FROM kms_xks_keys WHERE custom_key_store_id = $1 AND xks_key_id = $2', [r.customKeyStoreId, r.xksKeyId]);
      if (rows[0]) {
        const alive = await tx.query('SELECT 1 FROM kms_keys WHERE key_id = $1', [String(rows[0].key_id)]);
        if (alive.rows.length > 0) return false;
        await tx.query('DELETE FROM kms_xks_keys WHERE key_id = $1', [String(rows[0].key_id)]);
      }
      await tx.query('INSERT INTO kms_xks_keys (key_id, custom_key_store_id, xks_key_id) VALUES ($1, $2, $3)', [r.keyId, r.customKeyStoreId, r.xksKeyId]);
      return true;
    });
  }

  async releaseXksKey(keyId: string): Promise<void> {
    await this.database.query('DELETE FROM kms_xks_keys WHERE key_id = $1', [keyId]);
  }

  async getXksKey(keyId: string): Promise<XksKeyRecord | undefined> {
    const { rows } = await this.database.query('SELECT key_id, custom_key_store_id, xks_key_id FROM kms_xks_keys WHERE key_id = $1', [keyId]);
    const row = rows[0];
    return row ? { keyId: String(row.key_id), customKeyStoreId: String(row.custom_key_store_id), xksKeyId: String(row.xks_key_id) } : undefined;
  }

  async countKeysInCustomKeyStore(id: string): Promise<number> {
    const { rows } = await this.database.query('SELECT count(*) AS n FROM kms_xks_keys x JOIN kms_keys k ON k.key_id = x.key_id WHERE x.custom_key_store_id = $1', [id]);
    return Number(rows[0]!.n);
  }
}

async function lockAccount(tx: Queryable, accountId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kms-custom-key-stores:${accountId}`]);
}

async function checkFree(tx: Queryable, r: CustomKeyStoreRecord, self: string | undefined): Promise<void> {
  const byName = await tx.query('SELECT id FROM kms_custom_key_stores WHERE account_id = $1 AND region = $2 AND name = $3', [r.accountId, r.region, r.name]);
  if (byName.rows[0] && String(byName.rows[0].id) !== self) throw new CustomKeyStoreConflict('name');
  const byUri = await tx.query('SELECT id FROM kms_custom_key_stores WHERE account_id = $1 AND region = $2 AND uri = $3', [r.accountId, r.region, uriOf(r)]);
  if (byUri.rows[0] && String(byUri.rows[0].id) !== self) throw new CustomKeyStoreConflict('uri');
}
