import { Cache, CacheSettings } from '../../core/cache/cache.js';
import { InProcessInvalidation, InvalidationPort, TOPICS } from '../../core/cache/invalidation.js';
import {
  AccessKeyRecord, AccountRecord, AliasRecord, ImportParametersRecord, KeyLastUsageRecord, KeyPatch, KeyRecord, MaterialRecord, MetadataStore, Page, RotationType, Tag,
  keyRowId,
} from './types.js';

/**
 * A metadata store that keeps recently read key records in memory (src/core/cache), so the hot path
 * (Encrypt, Decrypt, GenerateDataKey) does not query the database for every request. Every key write
 * goes through this decorator and publishes the key id on the invalidation port once written (TOPICS.kmsKeys),
 * which drops the record from this cache and from every other process's sharing the port; the TTL bounds
 * how long a lost publication can leave a stale record elsewhere. Time-driven transitions stay correct
 * because the lifecycle re-checks dates on every read.
 */
export class KeyCachingStore implements MetadataStore {
  readonly #keys: Cache<KeyRecord>;
  readonly #port: InvalidationPort;

  constructor(
    private readonly inner: MetadataStore,
    /** Without a port: this process's own (the store is not shared). */
    settings: Partial<CacheSettings> & { readonly capacity?: number } = {},
  ) {
    this.#port = settings.port ?? new InProcessInvalidation();
    this.#keys = new Cache({
      ...(settings.capacity !== undefined ? { capacity: settings.capacity } : {}),
      ...(settings.ttlMs !== undefined ? { ttlMs: settings.ttlMs } : {}),
      ...(settings.now ? { now: settings.now } : {}),
    });
    this.#keys.listen(this.#port, TOPICS.kmsKeys);
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    return this.#keys.load(keyId, () => this.inner.getKey(keyId));
  }

  async createKey(key: KeyRecord, material: MaterialRecord | null, tags: readonly Tag[]): Promise<void> {
    return this.#writing(keyRowId(key), () => this.inner.createKey(key, material, tags));
  }

  async createReplica(replica: KeyRecord, fromRowId: string, tags: readonly Tag[]): Promise<KeyRecord | undefined> {
    return this.#writing(keyRowId(replica), () => this.inner.createReplica(replica, fromRowId, tags));
  }

  /** Writes to every key of a multi-Region key publish each one's row id (those of the keys as they were before too). */
  async updateRelatedKeys(keyId: string, patch: KeyPatch): Promise<KeyRecord[]> {
    return this.#writingRelated(keyId, () => this.inner.updateRelatedKeys(keyId, patch));
  }

  async addRelatedMaterial(material: MaterialRecord, patch: KeyPatch): Promise<KeyRecord[]> {
    return this.#writingRelated(material.keyId, () => this.inner.addRelatedMaterial(material, patch));
  }

  async deleteRelatedKey(rowId: string, now: number): Promise<KeyRecord | undefined> {
    let promoted: KeyRecord | undefined;
    try {
      promoted = await this.#writing(rowId, () => this.inner.deleteRelatedKey(rowId, now));
      return promoted;
    } finally {
      if (promoted) await this.#port.publish(TOPICS.kmsKeys, keyRowId(promoted));
    }
  }

  async #writingRelated(keyId: string, write: () => Promise<KeyRecord[]>): Promise<KeyRecord[]> {
    const before = await this.inner.listRelatedKeys(keyId);
    let after: KeyRecord[] = [];
    try {
      after = await write();
      return after;
    } finally {
      for (const rowId of new Set([...before, ...after].map(keyRowId))) await this.#port.publish(TOPICS.kmsKeys, rowId);
    }
  }

  async updateKey(keyId: string, patch: KeyPatch): Promise<KeyRecord | undefined> {
    return this.#writing(keyId, () => this.inner.updateKey(keyId, patch));
  }

  async addMaterial(material: MaterialRecord, patch: KeyPatch): Promise<KeyRecord> {
    return this.#writing(material.keyId, () => this.inner.addMaterial(material, patch));
  }

  async putMaterials(keyId: string, put: readonly MaterialRecord[], remove: readonly string[], patch: KeyPatch): Promise<KeyRecord> {
    return this.#writing(keyId, () => this.inner.putMaterials(keyId, put, remove, patch));
  }

  async deleteKey(keyId: string): Promise<void> {
    return this.#writing(keyId, () => this.inner.deleteKey(keyId));
  }

  /**
   * Publishes the key id once the write is done (or failed: it may still have changed the row). A read that
   * overlapped the write is not cached (Cache's epoch rule), so no read in between can keep the old record.
   */
  async #writing<T>(keyId: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      await this.#port.publish(TOPICS.kmsKeys, keyId);
    }
  }

  // Everything else passes through unchanged.
  getSetting(name: string): Promise<string | undefined> { return this.inner.getSetting(name); }
  initSetting(name: string, value: string): Promise<string> { return this.inner.initSetting(name, value); }
  createAccount(account: AccountRecord): Promise<void> { return this.inner.createAccount(account); }
  getAccount(accountId: string): Promise<AccountRecord | undefined> { return this.inner.getAccount(accountId); }
  putAccessKey(key: AccessKeyRecord): Promise<void> { return this.inner.putAccessKey(key); }
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> { return this.inner.getAccessKey(accessKeyId); }
  listAccessKeys(accountId: string): Promise<AccessKeyRecord[]> { return this.inner.listAccessKeys(accountId); }
  listKeys(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<KeyRecord>> {
    return this.inner.listKeys(accountId, region, after, limit);
  }
  putImportParameters(p: ImportParametersRecord): Promise<void> { return this.inner.putImportParameters(p); }
  getImportParameters(keyId: string): Promise<ImportParametersRecord | undefined> { return this.inner.getImportParameters(keyId); }
  listKeysDue(now: number): Promise<KeyRecord[]> { return this.inner.listKeysDue(now); }
  listRelatedKeys(keyId: string): Promise<KeyRecord[]> { return this.inner.listRelatedKeys(keyId); }
  getMaterial(keyId: string, materialId: string): Promise<MaterialRecord | undefined> { return this.inner.getMaterial(keyId, materialId); }
  listMaterials(keyId: string, after: string | undefined, limit: number): Promise<Page<MaterialRecord>> {
    return this.inner.listMaterials(keyId, after, limit);
  }
  countMaterials(keyId: string, rotationType: RotationType): Promise<number> { return this.inner.countMaterials(keyId, rotationType); }
  createAlias(alias: AliasRecord): Promise<void> { return this.inner.createAlias(alias); }
  getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    return this.inner.getAlias(accountId, region, aliasName);
  }
  updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, updatedAt: number): Promise<boolean> {
    return this.inner.updateAlias(accountId, region, aliasName, targetKeyId, updatedAt);
  }
  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> { return this.inner.deleteAlias(accountId, region, aliasName); }
  listAliases(accountId: string, region: string, keyId: string | undefined, after: string | undefined, limit: number): Promise<Page<AliasRecord>> {
    return this.inner.listAliases(accountId, region, keyId, after, limit);
  }
  putTags(keyId: string, tags: readonly Tag[]): Promise<void> { return this.inner.putTags(keyId, tags); }
  removeTags(keyId: string, tagKeys: readonly string[]): Promise<void> { return this.inner.removeTags(keyId, tagKeys); }
  listTags(keyId: string, after: string | undefined, limit: number): Promise<Page<Tag>> { return this.inner.listTags(keyId, after, limit); }
  countTags(keyId: string): Promise<number> { return this.inner.countTags(keyId); }
  recordKeyLastUsage(usages: readonly KeyLastUsageRecord[]): Promise<void> { return this.inner.recordKeyLastUsage(usages); }
  getKeyLastUsage(keyId: string): Promise<KeyLastUsageRecord | undefined> { return this.inner.getKeyLastUsage(keyId); }
  close(): Promise<void> { return this.inner.close(); }
}
