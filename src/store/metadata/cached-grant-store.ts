import { Cache } from '../../core/cache/cache.js';
import { InProcessInvalidation, InvalidationPort, TOPICS } from '../../core/cache/invalidation.js';
import { CreateGrantResult, GrantListFilter, GrantRecord, GrantStore, NewGrant } from './grant-types.js';
import { Page } from './types.js';

export interface GrantCacheOptions {
  /** How many (key, grantee) lookups are kept (least recently used dropped first). */
  readonly capacity?: number;
  /**
   * How long an entry is trusted. Writes publish on the invalidation port at once; the bound only matters when
   * a publication from another process is lost (a grant revoked on another node stops counting here within
   * it, well inside the five minutes AWS documents for grant eventual consistency).
   */
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Where grant writes are published and heard (TOPICS.kmsGrants); without one, this process's own. */
  readonly port?: InvalidationPort;
}

/**
 * A grant store that keeps the answers of `grantsFor(key, grantee)` in memory: the grant check runs on every
 * KMS request that the key policy alone does not allow, and most of those ask about the same few
 * (key, principal) pairs. Negative answers are cached too. Every grant write through this store publishes the
 * key id (dropping every grantee's lookup of that key, here and in every process sharing the port); a lookup
 * that raced with a write is not cached (src/core/cache), so no process sharing the port sees a revoked grant
 * after the revoke returned. Grants removed with their key (ON DELETE CASCADE) may linger here, harmlessly: a
 * deleted key is never resolved again, and its entries age out.
 */
export class GrantCachingStore implements GrantStore {
  readonly #lookups: Cache<readonly GrantRecord[]>;
  readonly #port: InvalidationPort;

  constructor(
    private readonly inner: GrantStore,
    options: GrantCacheOptions = {},
  ) {
    this.#port = options.port ?? new InProcessInvalidation();
    this.#lookups = new Cache({
      negative: true,
      ...(options.capacity !== undefined ? { capacity: options.capacity } : {}),
      ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.#lookups.listen(this.#port, TOPICS.kmsGrants);
  }

  async grantsFor(keyId: string, granteePrincipal: string): Promise<readonly GrantRecord[]> {
    // Filed under the key id: a write to any of the key's grants drops every grantee's lookup of it.
    const grants = await this.#lookups.load(`${keyId}\0${granteePrincipal}`, () => this.inner.grantsFor(keyId, granteePrincipal), keyId);
    return grants ?? [];
  }

  async createGrant(grant: NewGrant, maxPerKey: number): Promise<CreateGrantResult> {
    return this.#writing(grant.keyId, () => this.inner.createGrant(grant, maxPerKey));
  }

  async deleteGrant(keyId: string, grantId: string): Promise<boolean> {
    return this.#writing(keyId, () => this.inner.deleteGrant(keyId, grantId));
  }

  /** Publishes the key id once the write is done (or failed); lookups in flight meanwhile are not cached. */
  async #writing<T>(keyId: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      await this.#port.publish(TOPICS.kmsGrants, keyId);
    }
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
