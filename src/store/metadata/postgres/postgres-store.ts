import { KEY_PATCH_COLUMNS, kmsRows } from '../rows/kms.js';
import {
  AccessKeyRecord, AccountRecord, AliasExistsError, AliasRecord, ImportParametersRecord, KeyLastUsageRecord, KeyPatch, KeyRecord, MaterialRecord,
  MetadataStore, Page, RotationType, Tag, keyIdOfRow, keyRowId, latestPerKey, pageOf, withRelatedSettings,
} from '../types.js';
import { DAY_MS } from '../../../core/clock.js';
import { PostgresDatabase, Queryable } from './database.js';
import { bytes, POSTGRES_ROWS, seqAfter, text } from './rows.js';

type Row = Record<string, unknown>;

const { toAccessKey, toKey, toMaterial, toAlias, toImportParameters } = kmsRows(POSTGRES_ROWS);

/**
 * The metadata store on PostgreSQL (schema: migrations/001-kms.ts). Writes that SQLite makes in one
 * transaction are one transaction here too (createKey, addMaterial, putTags, removeTags); single statements
 * are atomic on their own. Alias uniqueness is the primary key's, so two nodes creating the same alias at
 * once get one success and one AliasExistsError.
 */
export class PostgresMetadataStore implements MetadataStore {
  readonly #db: PostgresDatabase;

  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  /** Opens (and migrates) the database at `url` for this store alone; close() closes it. */
  static async open(url: string): Promise<PostgresMetadataStore> {
    return new PostgresMetadataStore(await PostgresDatabase.open(url));
  }

  async #one(sql: string, params: unknown[]): Promise<Row | undefined> {
    return (await this.#db.query(sql, params)).rows[0];
  }

  async getSetting(name: string): Promise<string | undefined> {
    const row = await this.#one('SELECT value FROM settings WHERE name = $1', [name]);
    return row ? String(row.value) : undefined;
  }

  async initSetting(name: string, value: string): Promise<string> {
    await this.#db.query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, value]);
    return (await this.getSetting(name))!;
  }

  async createAccount(a: AccountRecord): Promise<void> {
    await this.#db.query('INSERT INTO accounts (account_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [a.accountId, a.createdAt]);
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const row = await this.#one('SELECT * FROM accounts WHERE account_id = $1', [accountId]);
    return row ? { accountId: String(row.account_id), createdAt: Number(row.created_at) } : undefined;
  }

  async putAccessKey(k: AccessKeyRecord): Promise<void> {
    // SQLite's INSERT OR REPLACE: every column takes the new record's value, and user_name (IAM's column,
    // migrations/003-iam.ts) its default, NULL — the key is no longer an IAM user's.
    await this.#db.query(
      `INSERT INTO access_keys
         (access_key_id, account_id, principal_arn, principal_type, principal_id, secret_wrapped, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (access_key_id) DO UPDATE SET account_id = excluded.account_id, principal_arn = excluded.principal_arn,
         principal_type = excluded.principal_type, principal_id = excluded.principal_id,
         secret_wrapped = excluded.secret_wrapped, status = excluded.status, created_at = excluded.created_at,
         user_name = NULL`,
      [k.accessKeyId, k.accountId, k.principalArn, k.principalType, k.principalId, k.secretWrapped, k.status, k.createdAt],
    );
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const row = await this.#one('SELECT * FROM access_keys WHERE access_key_id = $1', [accessKeyId]);
    return row ? toAccessKey(row) : undefined;
  }

  async listAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    const { rows } = await this.#db.query('SELECT * FROM access_keys WHERE account_id = $1 ORDER BY access_key_id', [accountId]);
    return rows.map(toAccessKey);
  }

  async createKey(key: KeyRecord, material: MaterialRecord | null, tags: readonly Tag[]): Promise<void> {
    await this.#db.transaction(async (tx) => {
      if (!(await insertKey(tx, key))) throw new Error(`kms key ${keyRowId(key)} exists`);
      if (material) await insertMaterial(tx, material);
      for (const t of tags) await putTag(tx, keyRowId(key), t);
    });
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const row = await this.#one('SELECT * FROM kms_keys WHERE key_id = $1', [keyId]);
    return row ? toKey(row) : undefined;
  }

  async listKeys(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<KeyRecord>> {
    const { rows } = await this.#db.query(
      'SELECT * FROM kms_keys WHERE account_id = $1 AND region = $2 AND key_id > $3 ORDER BY key_id LIMIT $4',
      [accountId, region, after ?? '', limit + 1],
    );
    return pageOf(rows.map(toKey), limit, keyRowId);
  }

  async updateKey(keyId: string, patch: KeyPatch): Promise<KeyRecord | undefined> {
    const row = await applyPatch(this.#db, keyId, patch);
    return row ? toKey(row) : undefined;
  }

  async deleteKey(keyId: string): Promise<void> {
    // Materials, aliases and tags go with it (ON DELETE CASCADE), in the statement's transaction.
    await this.#db.query('DELETE FROM kms_keys WHERE key_id = $1', [keyId]);
  }

  async listKeysDue(now: number): Promise<KeyRecord[]> {
    const { rows } = await this.#db.query(
      `SELECT * FROM kms_keys WHERE deletion_date <= $1
       UNION SELECT * FROM kms_keys WHERE next_rotation_date <= $1 AND rotation_enabled
         AND (primary_region IS NULL OR primary_region = region)
       UNION SELECT * FROM kms_keys WHERE material_expires_at <= $1`,
      [now],
    );
    return rows.map(toKey);
  }

  async listRelatedKeys(keyId: string): Promise<KeyRecord[]> {
    return (await related(this.#db, keyId, false)).map(toKey);
  }

  async createReplica(replica: KeyRecord, fromRowId: string, tags: readonly Tag[]): Promise<KeyRecord | undefined> {
    const rowId = keyRowId(replica);
    const row = await this.#db.transaction(async (tx) => {
      // Locking the related keys orders this after (or before) a rotation or shared-setting change in flight,
      // so the replica never misses a material or a setting the others get.
      await related(tx, replica.keyId, true);
      const from = (await tx.query('SELECT * FROM kms_keys WHERE key_id = $1', [fromRowId])).rows[0];
      if (!from) return undefined;
      const added = await insertKey(tx, withRelatedSettings(replica, toKey(from)));
      if (!added) return undefined;
      await tx.query(
        `INSERT INTO kms_key_materials (key_id, material_id, wrapped, created_at, seq, rotation_type, import_state,
           pending_rotation, expiration_model, valid_to, description)
         SELECT $1, material_id, wrapped, created_at, seq, rotation_type, import_state, pending_rotation, expiration_model,
           valid_to, description
         FROM kms_key_materials WHERE key_id = $2`,
        [rowId, fromRowId],
      );
      for (const t of tags) await putTag(tx, rowId, t);
      return (await tx.query('SELECT * FROM kms_keys WHERE key_id = $1', [rowId])).rows[0];
    });
    return row ? toKey(row) : undefined;
  }

  async updateRelatedKeys(keyId: string, patch: KeyPatch): Promise<KeyRecord[]> {
    const rows = await this.#db.transaction(async (tx) => {
      const out: Row[] = [];
      for (const r of await related(tx, keyId, true)) out.push((await applyPatch(tx, String(r.key_id), patch))!);
      return out;
    });
    return rows.map(toKey);
  }

  async addRelatedMaterial(material: MaterialRecord, patch: KeyPatch): Promise<KeyRecord[]> {
    const rows = await this.#db.transaction(async (tx) => {
      const out: Row[] = [];
      for (const r of await related(tx, material.keyId, true)) {
        const rowId = String(r.key_id);
        await insertMaterial(tx, { ...material, keyId: rowId });
        out.push((await applyPatch(tx, rowId, patch))!);
      }
      return out;
    });
    return rows.map(toKey);
  }

  async deleteRelatedKey(rowId: string, now: number): Promise<KeyRecord | undefined> {
    const row = await this.#db.transaction(async (tx) => {
      // Lock the related keys first, in one order for every writer, so two deletions of the last two
      // replicas at once queue instead of deadlocking, and the second sees the first's.
      const keyId = keyIdOfRow(rowId);
      await related(tx, keyId, true);
      const gone = (await tx.query('DELETE FROM kms_keys WHERE key_id = $1 RETURNING *', [rowId])).rows[0];
      if (!gone) return undefined;
      const left = (await related(tx, keyId, false)).map(toKey);
      const primary = left.length === 1 ? left[0]! : undefined;
      if (!primary || primary.keyState !== 'PendingReplicaDeletion' || primary.primaryRegion !== primary.region) return undefined;
      const window = primary.pendingWindowInDays ?? 30;
      return applyPatch(tx, keyRowId(primary), { keyState: 'PendingDeletion', deletionDate: now + window * DAY_MS });
    });
    return row ? toKey(row) : undefined;
  }

  async addMaterial(material: MaterialRecord, patch: KeyPatch): Promise<KeyRecord> {
    const row = await this.#db.transaction(async (tx) => {
      // Lock the key first: two rotations of one key at once (two nodes) then number their materials one
      // after the other instead of both taking the same seq.
      await tx.query('SELECT 1 FROM kms_keys WHERE key_id = $1 FOR UPDATE', [material.keyId]);
      await insertMaterial(tx, material);
      return applyPatch(tx, material.keyId, patch);
    });
    return toKey(row!);
  }

  async getMaterial(keyId: string, materialId: string): Promise<MaterialRecord | undefined> {
    const row = await this.#one('SELECT * FROM kms_key_materials WHERE key_id = $1 AND material_id = $2', [keyId, materialId]);
    return row ? toMaterial(row) : undefined;
  }

  async listMaterials(keyId: string, after: string | undefined, limit: number): Promise<Page<MaterialRecord>> {
    const { rows } = await this.#db.query(
      'SELECT * FROM kms_key_materials WHERE key_id = $1 AND seq > $2::bigint ORDER BY seq LIMIT $3',
      [keyId, seqAfter(after), limit + 1],
    );
    const items = rows.map((r) => ({ ...toMaterial(r), seq: Number(r.seq) }));
    const p = pageOf(items, limit, (m) => String(m.seq));
    return { items: p.items.map(({ seq: _seq, ...m }) => m), ...(p.next !== undefined ? { next: p.next } : {}) };
  }

  async countMaterials(keyId: string, rotationType: RotationType): Promise<number> {
    const row = await this.#one('SELECT COUNT(*) AS n FROM kms_key_materials WHERE key_id = $1 AND rotation_type = $2', [keyId, rotationType]);
    return Number(row!.n);
  }

  async createAlias(a: AliasRecord): Promise<void> {
    const res = await this.#db.query(
      `INSERT INTO kms_aliases (account_id, region, alias_name, target_key_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [a.accountId, a.region, a.aliasName, keyRowId({ keyId: a.targetKeyId, region: a.region }), a.createdAt, a.updatedAt],
    );
    if (res.rowCount === 0) throw new AliasExistsError();
  }

  async getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const row = await this.#one('SELECT * FROM kms_aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3', [accountId, region, aliasName]);
    return row ? toAlias(row) : undefined;
  }

  async updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, updatedAt: number): Promise<boolean> {
    const res = await this.#db.query(
      'UPDATE kms_aliases SET target_key_id = $1, updated_at = $2 WHERE account_id = $3 AND region = $4 AND alias_name = $5',
      [keyRowId({ keyId: targetKeyId, region }), updatedAt, accountId, region, aliasName],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    const res = await this.#db.query('DELETE FROM kms_aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3', [accountId, region, aliasName]);
    return (res.rowCount ?? 0) > 0;
  }

  async listAliases(
    accountId: string,
    region: string,
    keyId: string | undefined,
    after: string | undefined,
    limit: number,
  ): Promise<Page<AliasRecord>> {
    const { rows } = await this.#db.query(
      `SELECT * FROM kms_aliases WHERE account_id = $1 AND region = $2 AND ($3::text IS NULL OR target_key_id = $3)
         AND alias_name > $4 ORDER BY alias_name LIMIT $5`,
      [accountId, region, keyId === undefined ? null : keyRowId({ keyId, region }), after ?? '', limit + 1],
    );
    return pageOf(rows.map(toAlias), limit, (a) => a.aliasName);
  }

  async putTags(keyId: string, tags: readonly Tag[]): Promise<void> {
    await this.#db.transaction(async (tx) => {
      for (const t of tags) await putTag(tx, keyId, t);
    });
  }

  async removeTags(keyId: string, tagKeys: readonly string[]): Promise<void> {
    // One statement: atomic on its own.
    await this.#db.query('DELETE FROM kms_tags WHERE key_id = $1 AND tag_key = ANY($2::bytea[])', [keyId, tagKeys.map(bytes)]);
  }

  async listTags(keyId: string, after: string | undefined, limit: number): Promise<Page<Tag>> {
    const { rows } = await this.#db.query(
      'SELECT tag_key, tag_value FROM kms_tags WHERE key_id = $1 AND tag_key > $2 ORDER BY tag_key LIMIT $3',
      [keyId, bytes(after ?? ''), limit + 1],
    );
    return pageOf(
      rows.map((r) => ({ TagKey: text(r.tag_key), TagValue: text(r.tag_value) })),
      limit,
      (t) => t.TagKey,
    );
  }

  async countTags(keyId: string): Promise<number> {
    return Number((await this.#one('SELECT COUNT(*) AS n FROM kms_tags WHERE key_id = $1', [keyId]))!.n);
  }

  async recordKeyLastUsage(usages: readonly KeyLastUsageRecord[]): Promise<void> {
    const latest = latestPerKey(usages);
    if (latest.length === 0) return;
    // One statement for the batch: only a later use replaces the stored one; a deleted key's use is dropped.
    await this.#db.query(
      `INSERT INTO kms_key_last_usage (key_id, operation, used_at, event_id, request_id)
         SELECT u.key_id, u.operation, u.used_at, u.event_id, u.request_id
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[]) AS u(key_id, operation, used_at, event_id, request_id)
         WHERE EXISTS (SELECT 1 FROM kms_keys k WHERE k.key_id = u.key_id)
       ON CONFLICT (key_id) DO UPDATE SET operation = excluded.operation, used_at = excluded.used_at,
         event_id = excluded.event_id, request_id = excluded.request_id
       WHERE excluded.used_at >= kms_key_last_usage.used_at`,
      [latest.map((u) => u.keyId), latest.map((u) => u.operation), latest.map((u) => u.usedAt), latest.map((u) => u.cloudTrailEventId), latest.map((u) => u.requestId)],
    );
  }

  async getKeyLastUsage(keyId: string): Promise<KeyLastUsageRecord | undefined> {
    const row = await this.#one('SELECT * FROM kms_key_last_usage WHERE key_id = $1', [keyId]);
    return row ? { keyId: String(row.key_id), operation: String(row.operation), usedAt: Number(row.used_at), cloudTrailEventId: String(row.event_id), requestId: String(row.request_id) } : undefined;
  }

  async putMaterials(keyId: string, put: readonly MaterialRecord[], remove: readonly string[], patch: KeyPatch): Promise<KeyRecord> {
    const row = await this.#db.transaction(async (tx) => {
      // Locked first, as addMaterial does: two imports into one key at once number their materials in turn.
      await tx.query('SELECT 1 FROM kms_keys WHERE key_id = $1 FOR UPDATE', [keyId]);
      if (remove.length > 0) await tx.query('DELETE FROM kms_key_materials WHERE key_id = $1 AND material_id = ANY($2::text[])', [keyId, remove]);
      for (const m of put) await insertMaterial(tx, m);
      return applyPatch(tx, keyId, patch);
    });
    return toKey(row!);
  }

  async putImportParameters(p: ImportParametersRecord): Promise<void> {
    await this.#db.query(
      `INSERT INTO kms_import_parameters (key_id, token_id, wrapping_algorithm, wrapping_key_spec, private_key_wrapped, created_at, valid_to)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (key_id) DO UPDATE SET token_id = excluded.token_id, wrapping_algorithm = excluded.wrapping_algorithm,
         wrapping_key_spec = excluded.wrapping_key_spec, private_key_wrapped = excluded.private_key_wrapped,
         created_at = excluded.created_at, valid_to = excluded.valid_to`,
      [p.keyId, p.tokenId, p.wrappingAlgorithm, p.wrappingKeySpec, p.privateKeyWrapped, p.createdAt, p.validTo],
    );
  }

  async getImportParameters(keyId: string): Promise<ImportParametersRecord | undefined> {
    const row = await this.#one('SELECT * FROM kms_import_parameters WHERE key_id = $1', [keyId]);
    return row ? toImportParameters(row) : undefined;
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

/** Applies the patch's set fields and returns the key's row afterwards (undefined: no such key). */
async function applyPatch(q: Queryable, keyId: string, patch: KeyPatch): Promise<Row | undefined> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined) as [keyof KeyPatch, unknown][];
  if (entries.length === 0) return (await q.query('SELECT * FROM kms_keys WHERE key_id = $1', [keyId])).rows[0];
  const sets = entries.map(([k], i) => `${KEY_PATCH_COLUMNS[k]} = $${i + 2}`).join(', ');
  const values = entries.map(([k, v]) => (k === 'description' ? bytes(v as string) : v));
  const { rows } = await q.query(`UPDATE kms_keys SET ${sets} WHERE key_id = $1 RETURNING *`, [keyId, ...values]);
  return rows[0];
}

/** Inserts the key's row; false (nothing inserted) when its row id is taken. */
async function insertKey(q: Queryable, key: KeyRecord): Promise<boolean> {
  const res = await q.query(
    `INSERT INTO kms_keys (key_id, account_id, region, arn, description, key_state, key_manager, created_at,
       deletion_date, pending_window_in_days, policy, current_material_id, rotation_enabled,
       rotation_period_in_days, next_rotation_date, on_demand_rotation_start_date, key_spec, key_usage, origin, multi_region,
       primary_region)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
     ON CONFLICT (key_id) DO NOTHING`,
    [
      keyRowId(key), key.accountId, key.region, key.arn, bytes(key.description), key.keyState, key.keyManager, key.createdAt,
      key.deletionDate, key.pendingWindowInDays, key.policy, key.currentMaterialId, key.rotationEnabled,
      key.rotationPeriodInDays, key.nextRotationDate, key.onDemandRotationStartDate, key.keySpec, key.keyUsage, key.origin,
      key.multiRegion, key.primaryRegion,
    ],
  );
  return (res.rowCount ?? 0) > 0;
}

/** The rows of multi-Region key `keyId` (`<key id>@<region>`, a range: 'A' follows '@'), locked when `lock`. */
async function related(q: Queryable, keyId: string, lock: boolean): Promise<Row[]> {
  const { rows } = await q.query(
    `SELECT * FROM kms_keys WHERE key_id > $1 AND key_id < $2 ORDER BY region${lock ? ' FOR UPDATE' : ''}`,
    [`${keyId}@`, `${keyId}A`],
  );
  return rows;
}

/** Inserts a material after the key's others, or replaces the one of the same id (imported material). */
function insertMaterial(q: Queryable, m: MaterialRecord): Promise<unknown> {
  const i = m.imported;
  return q.query(
    `INSERT INTO kms_key_materials (key_id, material_id, wrapped, created_at, seq, rotation_type,
       import_state, pending_rotation, expiration_model, valid_to, description)
     VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(seq), 0) + 1 FROM kms_key_materials WHERE key_id = $1), $5, $6, $7, $8, $9, $10)
     ON CONFLICT (key_id, material_id) DO UPDATE SET wrapped = excluded.wrapped, created_at = excluded.created_at,
       rotation_type = excluded.rotation_type, import_state = excluded.import_state,
       pending_rotation = excluded.pending_rotation, expiration_model = excluded.expiration_model,
       valid_to = excluded.valid_to, description = excluded.description`,
    [
      m.keyId, m.materialId, m.wrapped, m.createdAt, m.rotationType,
      i?.importState ?? null, i?.pendingRotation ?? false, i?.expirationModel ?? null, i?.validTo ?? null, i?.description ?? null,
    ],
  );
}

function putTag(q: Queryable, keyId: string, t: Tag): Promise<unknown> {
  return q.query(
    `INSERT INTO kms_tags (key_id, tag_key, tag_value) VALUES ($1, $2, $3)
     ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
    [keyId, bytes(t.TagKey), bytes(t.TagValue)],
  );
}
