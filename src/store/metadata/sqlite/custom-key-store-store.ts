import { CustomKeyStoreConflict, CustomKeyStorePatch, CustomKeyStoreRecord, CustomKeyStoreStore, XksKeyRecord } from '../custom-key-store-types.js';
import { Page } from '../types.js';
import { SqliteDatabase } from './database.js';

type Row = Record<string, unknown>;
const uriOf = (r: Pick<CustomKeyStoreRecord, 'uriEndpoint' | 'uriPath'>) => `${r.uriEndpoint}${r.uriPath}`;

/** Custom key stores and XKS key associations in SQLite (migration 019). */
export class SqliteCustomKeyStoreStore implements CustomKeyStoreStore {
  constructor(private readonly database: SqliteDatabase) {}

  async createCustomKeyStore(r: CustomKeyStoreRecord): Promise<void> {
    const d = this.database;
    d.transaction(() => {
      this.#checkFree(r, undefined);
      d.stmt('INSERT INTO kms_custom_key_stores (id, account_id, region, name, uri, data) VALUES (?, ?, ?, ?, ?, ?)').run(r.id, r.accountId, r.region, r.name, uriOf(r), JSON.stringify(r));
    });
  }

  async getCustomKeyStore(id: string): Promise<CustomKeyStoreRecord | undefined> {
    const row = this.database.stmt('SELECT data FROM kms_custom_key_stores WHERE id = ?').get(id) as Row | undefined;
    return row ? (JSON.parse(String(row.data)) as CustomKeyStoreRecord) : undefined;
  }

  async listCustomKeyStores(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<CustomKeyStoreRecord>> {
    const rows = this.database
      .stmt('SELECT id, data FROM kms_custom_key_stores WHERE account_id = ? AND region = ? AND id > ? ORDER BY id LIMIT ?')
      .all(accountId, region, after ?? '', limit + 1) as Row[];
    const items = rows.slice(0, limit).map((r) => JSON.parse(String(r.data)) as CustomKeyStoreRecord);
    return rows.length > limit ? { items, next: items[items.length - 1]!.id } : { items };
  }

  async updateCustomKeyStore(id: string, patch: CustomKeyStorePatch): Promise<CustomKeyStoreRecord | undefined> {
    const d = this.database;
    return d.transaction(() => {
      const row = d.stmt('SELECT data FROM kms_custom_key_stores WHERE id = ?').get(id) as Row | undefined;
      if (!row) return undefined;
      const next: CustomKeyStoreRecord = { ...(JSON.parse(String(row.data)) as CustomKeyStoreRecord), ...patch };
      this.#checkFree(next, id);
      d.stmt('UPDATE kms_custom_key_stores SET name = ?, uri = ?, data = ? WHERE id = ?').run(next.name, uriOf(next), JSON.stringify(next), id);
      return next;
    });
  }

  async deleteCustomKeyStore(id: string): Promise<boolean> {
    const d = this.database;
    return d.transaction(() => {
      d.stmt('DELETE FROM kms_xks_keys WHERE custom_key_store_id = ?').run(id);
      return d.stmt('DELETE FROM kms_custom_key_stores WHERE id = ?').run(id).changes > 0;
    });
  }

  async reserveXksKey(r: XksKeyRecord): Promise<boolean> {
    const d = this.database;
    return d.transaction(() => {
      const holder = d.stmt('SELECT key_id FROM kms_xks_keys WHERE custom_key_store_id = ? AND xks_key_id = ?').get(r.customKeyStoreId, r.xksKeyId) as Row | undefined;
      if (holder) {
        const alive = d.stmt('SELECT 1 FROM kms_keys WHERE key_id = ?').get(String(holder.key_id));
        if (alive) return false;
        d.stmt('DELETE FROM kms_xks_keys WHERE key_id = ?').run(String(holder.key_id));
      }
      d.stmt('INSERT INTO kms_xks_keys (key_id, custom_key_store_id, xks_key_id) VALUES (?, ?, ?)').run(r.keyId, r.customKeyStoreId, r.xksKeyId);
      return true;
    });
  }

  async releaseXksKey(keyId: string): Promise<void> {
    this.database.stmt('DELETE FROM kms_xks_keys WHERE key_id = ?').run(keyId);
  }

  async getXksKey(keyId: string): Promise<XksKeyRecord | undefined> {
    const row = this.database.stmt('SELECT key_id, custom_key_store_id, xks_key_id FROM kms_xks_keys WHERE key_id = ?').get(keyId) as Row | undefined;
    return row ? { keyId: String(row.key_id), customKeyStoreId: String(row.custom_key_store_id), xksKeyId: String(row.xks_key_id) } : undefined;
  }

  async countKeysInCustomKeyStore(id: string): Promise<number> {
    const row = this.database
      .stmt('SELECT count(*) AS n FROM kms_xks_keys x JOIN kms_keys k ON k.key_id = x.key_id WHERE x.custom_key_store_id = ?')
      .get(id) as Row;
    return Number(row.n);
  }

  #checkFree(r: CustomKeyStoreRecord, self: string | undefined): void {
    const d = this.database;
    const byName = d.stmt('SELECT id FROM kms_custom_key_stores WHERE account_id = ? AND region = ? AND name = ?').get(r.accountId, r.region, r.name) as Row | undefined;
    if (byName && String(byName.id) !== self) throw new CustomKeyStoreConflict('name');
    const byUri = d.stmt('SELECT id FROM kms_custom_key_stores WHERE account_id = ? AND region = ? AND uri = ?').get(r.accountId, r.region, uriOf(r)) as Row | undefined;
    if (byUri && String(byUri.id) !== self) throw new CustomKeyStoreConflict('uri');
  }
}
