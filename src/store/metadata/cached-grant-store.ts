import { CreateGrantResult, GrantListFilter, GrantRecord, GrantStore, NewGrant } from './grant-types.js';
import { Page } from './types.js';

export interface GrantCacheOptions {
  /** How many keys' grantee lookups are kept (least recently used dropped first). */
  readonly keys?: number;
  /** How many distinct grantees are kept per key (the key's entry is dropped past that). */
  readonly granteesPerKey?: number;
  /**
   * How long an entry is trusted. Writes through this store invalidate at once; the bound only matters when
   * several processes share the database (a grant revoked on another node stops counting here within it,
   * well inside the five minutes AWS documents for grant eventual consistency).
   */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly grants: readonly GrantRecord[];
  readonly at: number;
}

/**
 * A grant store that keeps the answers of `grantsFor(key, grantee)` in memory: the grant check runs on every
 * KMS request that the key policy alone does not allow, and most of those ask about the same few
 * (key, principal) pairs. Negative answers are cached too. Every grant write through this store drops the
 * key's entries; a lookup that raced with a write is not cached (write epoch), so this process never sees a
 * revoked grant after the revoke returned. Grants removed with their key (ON DELETE CASCADE) may linger
 * here, harmlessly: a deleted key is never resolved again, and its entries age out.
 */
export class GrantCachingStore implements GrantStore {
  readonly #byKey = new Map<string, Map<string, Entry>>();
  readonly #keys: number;
  readonly #granteesPerKey: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #epoch = 0;

  constructor(
    private readonly inner: GrantStore,
    options: GrantCacheOptions = {},
  ) {
    this.#keys = options.keys ?? 10_000;
    this.#granteesPerKey = options.granteesPerKey ?? 1_000;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  async grantsFor(keyId: string, granteePrincipal: string): Promise<readonly GrantRecord[]> {
    const now = this.#now();
    const perKey = this.#byKey.get(keyId);
    const hit = perKey?.get(granteePrincipal);
    if (perKey && hit && now - hit.at < this.#ttlMs) {
      // Most recently used keys move to the end of the insertion order.
      this.#byKey.delete(keyId);
      this.#byKey.set(keyId, perKey);
      return hit.grants;
    }
    const epoch = this.#epoch;
    const grants = await this.inner.grantsFor(keyId, granteePrincipal);
    if (epoch === this.#epoch) this.#remember(keyId, granteePrincipal, { grants, at: now });
    return grants;
  }

  async createGrant(grant: NewGrant, maxPerKey: number): Promise<CreateGrantResult> {
    return this.#writing(grant.keyId, () => this.inner.createGrant(grant, maxPerKey));
  }

  async deleteGrant(keyId: string, grantId: string): Promise<boolean> {
    return this.#writing(keyId, () => this.inner.deleteGrant(keyId, grantId));
  }

  /** Drops the key's entries before and after the write; lookups in flight meanwhile are not cached. */
  async #writing<T>(keyId: string, write: () => Promise<T>): Promise<T> {
    this.#epoch++;
    this.#byKey.delete(keyId);
    try {
      return await write();
    } finally {
      this.#epoch++;
      this.#byKey.delete(keyId);
    }
  }

  #remember(keyId: string, grantee: string, entry: Entry): void {
    let perKey = this.#byKey.get(keyId);
    if (!perKey || perKey.size >= this.#granteesPerKey) perKey = new Map();
    this.#byKey.delete(keyId);
    this.#byKey.set(keyId, perKey);
    perKey.set(grantee, entry);
    if (this.#byKey.size > this.#keys) this.#byKey.delete(this.#byKey.keys().next().value!);
  }

  // Reads other than the authorization path pass through unchanged.
  getGrant(grantId: string): Promise<GrantRecord | undefined> { return this.inner.getGrant(grantId); }
  listGrants(keyId: string, filter: GrantListFilter, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    return this.inner.listGrants(keyId, filter, after, limit);
  }
  listRetirableGrants(retiringPrincipal: string, region: string, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    return this.inner.listRetirableGrants(retiringPrincipal, region, after, limit);
  }
  countGrants(keyId: string): Promise<number> { return this.inner.countGrants(keyId); }
}
