import Database from 'better-sqlite3';
import { DAY_MS } from '../../../core/clock.js';
import { KEY_PATCH_COLUMNS, kmsRows } from '../rows/kms.js';
import {
  AccessKeyRecord, AccountRecord, AliasExistsError, AliasRecord, ImportParametersRecord, KeyLastUsageRecord, KeyPatch, KeyRecord, MaterialRecord,
  MetadataStore, Page, RotationType, Tag, keyRowId, latestPerKey, pageOf, withRelatedSettings,
} from '../types.js';
import { SqliteDatabase } from './database.js';
import { SQLITE_ROWS } from './rows.js';

type Row = Record<string, unknown>;

const { toAccessKey, toKey, toMaterial, toAlias, toImportParameters } = kmsRows(SQLITE_ROWS);

/**
 * SQLite in WAL mode with synchronous=FULL: a write that returned is on disk.
 * better-sqlite3 is synchronous; the async methods keep the MetadataStore interface networked-store-shaped.
 */
export class SqliteMetadataStore implements MetadataStore {
  readonly #db: Database.Database;
  readonly #database: SqliteDatabase;
  readonly #stmt: (sql: string) => Database.Statement;

  constructor(db: SqliteDatabase) {
    this.#database = db;
    this.#db = db.db;
    this.#stmt = (sql) => db.stmt(sql);
  }

  static inDataDir(dataDir: string): SqliteMetadataStore {
    return new SqliteMetadataStore(SqliteDatabase.inDataDir(dataDir));
  }

  async getSetting(name: string): Promise<string | undefined> {
    const row = this.#stmt('SELECT value FROM settings WHERE name = ?').get(name) as Row | undefined;
    return row ? String(row.value) : undefined;
  }

  async initSetting(name: string, value: string): Promise<string> {
    this.#stmt('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING').run(name, value);
    return (await this.getSetting(name))!;
  }

  async createAccount(a: AccountRecord): Promise<void> {
    this.#stmt('INSERT INTO accounts (account_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(a.accountId, a.createdAt);
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const row = this.#stmt('SELECT * FROM accounts WHERE account_id = ?').get(accountId) as Row | undefined;
    return row ? { accountId: String(row.account_id), createdAt: Number(row.created_at) } : undefined;
  }

  async putAccessKey(k: AccessKeyRecord): Promise<void> {
    this.#stmt(
      `INSERT OR REPLACE INTO access_keys
       (access_key_id, account_id, principal_arn, principal_type, principal_id, secret_wrapped, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(k.accessKeyId, k.accountId, k.principalArn, k.principalType, k.principalId, k.secretWrapped, k.status, k.createdAt);
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const row = this.#stmt('SELECT * FROM access_keys WHERE access_key_id = ?').get(accessKeyId) as Row | undefined;
    return row ? toAccessKey(row) : undefined;
  }

  async listAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    const rows = this.#stmt('SELECT * FROM access_keys WHERE account_id = ? ORDER BY access_key_id').all(accountId) as Row[];
    return rows.map(toAccessKey);
  }

  async createKey(key: KeyRecord, material: MaterialRecord | null, tags: readonly Tag[]): Promise<void> {
    this.#db.transaction(() => {
      if (!this.#insertKey(key)) throw new Error(`kms key ${keyRowId(key)} exists`);
      if (material) this.#insertMaterial(material);
      for (const t of tags) this.#putTag(keyRowId(key), t);
    }).immediate();
  }

  #insertKey(key: KeyRecord): boolean {
    const res = this.#stmt(
      `INSERT INTO kms_keys (key_id, account_id, region, arn, description, key_state, key_manager, created_at,
        deletion_date, pending_window_in_days, policy, current_material_id, rotation_enabled,
        rotation_period_in_days, next_rotation_date, on_demand_rotation_start_date, key_spec, key_usage, origin, multi_region,
        primary_region)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key_id) DO NOTHING`,
    ).run(
      keyRowId(key), key.accountId, key.region, key.arn, key.description, key.keyState, key.keyManager, key.createdAt,
      key.deletionDate, key.pendingWindowInDays, key.policy, key.currentMaterialId, key.rotationEnabled ? 1 : 0,
      key.rotationPeriodInDays, key.nextRotationDate, key.onDemandRotationStartDate, key.keySpec, key.keyUsage, key.origin,
      key.multiRegion ? 1 : 0, key.primaryRegion,
    );
    return res.changes > 0;
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const row = this.#stmt('SELECT * FROM kms_keys WHERE key_id = ?').get(keyId) as Row | undefined;
    return row ? toKey(row) : undefined;
  }

  async listKeys(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<KeyRecord>> {
    const rows = this.#stmt(
      'SELECT * FROM kms_keys WHERE account_id = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?',
    ).all(accountId, region, after ?? '', limit + 1) as Row[];
    return pageOf(rows.map(toKey), limit, keyRowId);
  }

  async updateKey(keyId: string, patch: KeyPatch): Promise<KeyRecord | undefined> {
    this.#applyPatch(keyId, patch);
    return this.getKey(keyId);
  }

  #applyPatch(keyId: string, patch: KeyPatch): void {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined) as [keyof KeyPatch, unknown][];
    if (entries.length === 0) return;
    const sets = entries.map(([k]) => `${KEY_PATCH_COLUMNS[k]} = ?`).join(', ');
    const values = entries.map(([, v]) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
    this.#stmt(`UPDATE kms_keys SET ${sets} WHERE key_id = ?`).run(...values, keyId);
  }

  async deleteKey(keyId: string): Promise<void> {
    // Materials, aliases and tags go with it (ON DELETE CASCADE), in the same statement's transaction.
    this.#stmt('DELETE FROM kms_keys WHERE key_id = ?').run(keyId);
  }

  async listKeysDue(now: number): Promise<KeyRecord[]> {
    const rows = this.#stmt(
      `SELECT * FROM kms_keys WHERE deletion_date <= @now
       UNION SELECT * FROM kms_keys WHERE next_rotation_date <= @now AND rotation_enabled = 1
         AND (primary_region IS NULL OR primary_region = region)
       UNION SELECT * FROM kms_keys WHERE material_expires_at <= @now`,
    ).all({ now }) as Row[];
    return rows.map(toKey);
  }

  async listRelatedKeys(keyId: string): Promise<KeyRecord[]> {
    return this.#related(keyId).map(toKey);
  }

  /** The rows `<key id>@<region>`: a range of the primary key ('A' follows '@'). */
  #related(keyId: string): Row[] {
    return this.#stmt('SELECT * FROM kms_keys WHERE key_id > ? AND key_id < ? ORDER BY region').all(`${keyId}@`, `${keyId}A`) as Row[];
  }

  async createReplica(replica: KeyRecord, fromRowId: string, tags: readonly Tag[]): Promise<KeyRecord | undefined> {
    const rowId = keyRowId(replica);
    const added = this.#db.transaction(() => {
      const from = this.#stmt('SELECT * FROM kms_keys WHERE key_id = ?').get(fromRowId) as Row | undefined;
      if (!from) return false;
      if (!this.#insertKey(withRelatedSettings(replica, toKey(from)))) return false;
      this.#stmt(
        `INSERT INTO kms_key_materials (key_id, material_id, wrapped, created_at, seq, rotation_type, import_state,
           pending_rotation, expiration_model, valid_to, description)
         SELECT ?, material_id, wrapped, created_at, seq, rotation_type, import_state, pending_rotation, expiration_model,
           valid_to, description
         FROM kms_key_materials WHERE key_id = ?`,
      ).run(rowId, fromRowId);
      for (const t of tags) this.#putTag(rowId, t);
      return true;
    }).immediate();
    return added ? this.getKey(rowId) : undefined;
  }

  async updateRelatedKeys(keyId: string, patch: KeyPatch): Promise<KeyRecord[]> {
    return this.#db.transaction(() => {
      const rows = this.#related(keyId);
      for (const r of rows) this.#applyPatch(String(r.key_id), patch);
      return this.#related(keyId).map(toKey);
    }).immediate();
  }

  async addRelatedMaterial(material: MaterialRecord, patch: KeyPatch): Promise<KeyRecord[]> {
    return this.#db.transaction(() => {
      for (const r of this.#related(material.keyId)) {
        const rowId = String(r.key_id);
        this.#insertMaterial({ ...material, keyId: rowId });
        this.#applyPatch(rowId, patch);
      }
      return this.#related(material.keyId).map(toKey);
    }).immediate();
  }

  async deleteRelatedKey(rowId: string, now: number): Promise<KeyRecord | undefined> {
    return this.#db.transaction(() => {
      const row = this.#stmt('SELECT * FROM kms_keys WHERE key_id = ?').get(rowId) as Row | undefined;
      this.#stmt('DELETE FROM kms_keys WHERE key_id = ?').run(rowId);
      if (!row) return undefined;
      const left = this.#related(toKey(row).keyId).map(toKey);
      const primary = left.length === 1 ? left[0]! : undefined;
      if (!primary || primary.keyState !== 'PendingReplicaDeletion' || primary.primaryRegion !== primary.region) return undefined;
      const window = primary.pendingWindowInDays ?? 30;
      this.#applyPatch(keyRowId(primary), { keyState: 'PendingDeletion', deletionDate: now + window * DAY_MS });
      return toKey(this.#stmt('SELECT * FROM kms_keys WHERE key_id = ?').get(keyRowId(primary)) as Row);
    }).immediate();
  }

  async addMaterial(material: MaterialRecord, patch: KeyPatch): Promise<KeyRecord> {
    this.#db.transaction(() => {
      this.#insertMaterial(material);
      this.#applyPatch(material.keyId, patch);
    }).immediate();
    return (await this.getKey(material.keyId))!;
  }

  #insertMaterial(m: MaterialRecord): void {
    const i = m.imported;
    this.#stmt(
      `INSERT INTO kms_key_materials (key_id, material_id, wrapped, created_at, seq, rotation_type,
         import_state, pending_rotation, expiration_model, valid_to, description)
       VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM kms_key_materials WHERE key_id = ?), ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key_id, material_id) DO UPDATE SET wrapped = excluded.wrapped, created_at = excluded.created_at,
         rotation_type = excluded.rotation_type, import_state = excluded.import_state,
         pending_rotation = excluded.pending_rotation, expiration_model = excluded.expiration_model,
         valid_to = excluded.valid_to, description = excluded.description`,
    ).run(
      m.keyId, m.materialId, m.wrapped, m.createdAt, m.keyId, m.rotationType,
      i?.importState ?? null, i?.pendingRotation ? 1 : 0, i?.expirationModel ?? null, i?.validTo ?? null, i?.description ?? null,
    );
  }

  async putMaterials(keyId: string, put: readonly MaterialRecord[], remove: readonly string[], patch: KeyPatch): Promise<KeyRecord> {
    this.#db.transaction(() => {
      for (const id of remove) this.#stmt('DELETE FROM kms_key_materials WHERE key_id = ? AND material_id = ?').run(keyId, id);
      for (const m of put) this.#insertMaterial(m);
      this.#applyPatch(keyId, patch);
    }).immediate();
    return (await this.getKey(keyId))!;
  }

  async putImportParameters(p: ImportParametersRecord): Promise<void> {
    this.#stmt(
      `INSERT OR REPLACE INTO kms_import_parameters
       (key_id, token_id, wrapping_algorithm, wrapping_key_spec, private_key_wrapped, created_at, valid_to)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(p.keyId, p.tokenId, p.wrappingAlgorithm, p.wrappingKeySpec, p.privateKeyWrapped, p.createdAt, p.validTo);
  }

  async getImportParameters(keyId: string): Promise<ImportParametersRecord | undefined> {
    const row = this.#stmt('SELECT * FROM kms_import_parameters WHERE key_id = ?').get(keyId) as Row | undefined;
    return row ? toImportParameters(row) : undefined;
  }

  async getMaterial(keyId: string, materialId: string): Promise<MaterialRecord | undefined> {
    const row = this.#stmt('SELECT * FROM kms_key_materials WHERE key_id = ? AND material_id = ?').get(keyId, materialId) as
      | Row
      | undefined;
    return row ? toMaterial(row) : undefined;
  }

  async listMaterials(keyId: string, after: string | undefined, limit: number): Promise<Page<MaterialRecord>> {
    const rows = this.#stmt(
      'SELECT * FROM kms_key_materials WHERE key_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ).all(keyId, after === undefined ? 0 : Number(after), limit + 1) as Row[];
    const items = rows.map((r) => ({ ...toMaterial(r), seq: Number(r.seq) }));
    const p = pageOf(items, limit, (m) => String(m.seq));
    return { items: p.items.map(({ seq: _seq, ...m }) => m), ...(p.next !== undefined ? { next: p.next } : {}) };
  }

  async countMaterials(keyId: string, rotationType: RotationType): Promise<number> {
    const row = this.#stmt('SELECT COUNT(*) AS n FROM kms_key_materials WHERE key_id = ? AND rotation_type = ?').get(
      keyId,
      rotationType,
    ) as Row;
    return Number(row.n);
  }

  async createAlias(a: AliasRecord): Promise<void> {
    const res = this.#stmt(
      `INSERT INTO kms_aliases (account_id, region, alias_name, target_key_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(a.accountId, a.region, a.aliasName, keyRowId({ keyId: a.targetKeyId, region: a.region }), a.createdAt, a.updatedAt);
    if (res.changes === 0) throw new AliasExistsError();
  }

  async getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const row = this.#stmt('SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name = ?').get(
      accountId,
      region,
      aliasName,
    ) as Row | undefined;
    return row ? toAlias(row) : undefined;
  }

  async updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, updatedAt: number): Promise<boolean> {
    const res = this.#stmt(
      'UPDATE kms_aliases SET target_key_id = ?, updated_at = ? WHERE account_id = ? AND region = ? AND alias_name = ?',
    ).run(keyRowId({ keyId: targetKeyId, region }), updatedAt, accountId, region, aliasName);
    return res.changes > 0;
  }

  async deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    const res = this.#stmt('DELETE FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name = ?').run(
      accountId,
      region,
      aliasName,
    );
    return res.changes > 0;
  }

  async listAliases(
    accountId: string,
    region: string,
    keyId: string | undefined,
    after: string | undefined,
    limit: number,
  ): Promise<Page<AliasRecord>> {
    const rows = (
      keyId === undefined
        ? this.#stmt(
            'SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name > ? ORDER BY alias_name LIMIT ?',
          ).all(accountId, region, after ?? '', limit + 1)
        : this.#stmt(
            `SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND target_key_id = ? AND alias_name > ?
             ORDER BY alias_name LIMIT ?`,
          ).all(accountId, region, keyRowId({ keyId, region }), after ?? '', limit + 1)
    ) as Row[];
    return pageOf(rows.map(toAlias), limit, (a) => a.aliasName);
  }

  async putTags(keyId: string, tags: readonly Tag[]): Promise<void> {
    this.#db.transaction(() => {
      for (const t of tags) this.#putTag(keyId, t);
    }).immediate();
  }

  #putTag(keyId: string, t: Tag): void {
    this.#stmt(
      `INSERT INTO kms_tags (key_id, tag_key, tag_value) VALUES (?, ?, ?)
       ON CONFLICT(key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
    ).run(keyId, t.TagKey, t.TagValue);
  }

  async removeTags(keyId: string, tagKeys: readonly string[]): Promise<void> {
    this.#db.transaction(() => {
      for (const k of tagKeys) this.#stmt('DELETE FROM kms_tags WHERE key_id = ? AND tag_key = ?').run(keyId, k);
    }).immediate();
  }

  async listTags(keyId: string, after: string | undefined, limit: number): Promise<Page<Tag>> {
    const rows = this.#stmt('SELECT * FROM kms_tags WHERE key_id = ? AND tag_key > ? ORDER BY tag_key LIMIT ?').all(
      keyId,
      after ?? '',
      limit + 1,
    ) as Row[];
    return pageOf(
      rows.map((r) => ({ TagKey: String(r.tag_key), TagValue: String(r.tag_value) })),
      limit,
      (t) => t.TagKey,
    );
  }

  async countTags(keyId: string): Promise<number> {
    return Number((this.#stmt('SELECT COUNT(*) AS n FROM kms_tags WHERE key_id = ?').get(keyId) as Row).n);
  }

  async recordKeyLastUsage(usages: readonly KeyLastUsageRecord[]): Promise<void> {
    const latest = latestPerKey(usages);
    if (latest.length === 0) return;
    this.#db.transaction(() => {
      for (const u of latest) {
        // Only a later use replaces the stored one; a deleted key's use is dropped (no row to attach it to).
        this.#stmt(
          `INSERT INTO kms_key_last_usage (key_id, operation, used_at, event_id, request_id)
             SELECT @keyId, @operation, @usedAt, @cloudTrailEventId, @requestId WHERE EXISTS (SELECT 1 FROM kms_keys WHERE key_id = @keyId)
           ON CONFLICT(key_id) DO UPDATE SET operation = excluded.operation, used_at = excluded.used_at,
             event_id = excluded.event_id, request_id = excluded.request_id
           WHERE excluded.used_at >= kms_key_last_usage.used_at`,
        ).run(u);
      }
    }).immediate();
  }

  async getKeyLastUsage(keyId: string): Promise<KeyLastUsageRecord | undefined> {
    const row = this.#stmt('SELECT * FROM kms_key_last_usage WHERE key_id = ?').get(keyId) as Row | undefined;
    return row ? toKeyLastUsage(row) : undefined;
  }

  async close(): Promise<void> {
    this.#database.close();
  }
}

function toKeyLastUsage(row: Row): KeyLastUsageRecord {
  return { keyId: String(row.key_id), operation: String(row.operation), usedAt: Number(row.used_at), cloudTrailEventId: String(row.event_id), requestId: String(row.request_id) };
}
