import { InvalidationPort } from './invalidation.js';

export interface CacheOptions {
  /** Most entries kept; the least recently used goes first. */
  readonly capacity?: number;
  /**
   * How long an entry is trusted at most. Invalidations drop entries at once; this is the backstop for one
   * that never arrives (another node's publication lost with its connection, or no shared port at all).
   */
  readonly ttlMs?: number;
  /** Whether "not found" answers (undefined) are kept too. */
  readonly negative?: boolean;
  /** Milliseconds, for the TTL (tests inject a clock they move). */
  readonly now?: () => number;
}

/** Defaults shared by every cache unless configured: 10 000 entries, trusted for 30 s. */
export const DEFAULT_CACHE_CAPACITY = 10_000;
export const DEFAULT_CACHE_TTL_MS = 30_000;

/** What every cache of a deployment shares: where invalidations travel, and the TTL backstop. */
export interface CacheSettings {
  readonly port: InvalidationPort;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

interface Entry<V> {
  readonly value: V | undefined;
  readonly at: number;
  /** The name it is also invalidated by (a grantee's lookup is filed under its key id). */
  readonly under: string | undefined;
}

/**
 * A bounded read-through cache with one rule every cache of Strongroom needs: a read that raced an
 * invalidation is not cached. `load` notes the invalidation epoch before reading the store and keeps the
 * answer only if no invalidation arrived meanwhile (the write it raced may have committed after the read saw
 * the old row; that answer is returned, it is merely not trusted for the next caller).
 *
 * Entries are dropped by name (`invalidate`), by the name they were filed under, or all at once (`clear`);
 * `listen` wires those to a topic of an InvalidationPort.
 */
export class Cache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  /** Entry names by the name they were filed under. */
  readonly #under = new Map<string, Set<string>>();
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #negative: boolean;
  readonly #now: () => number;
  #epoch = 0;

  constructor(options: CacheOptions = {}) {
    this.#capacity = options.capacity ?? DEFAULT_CACHE_CAPACITY;
    this.#ttlMs = options.ttlMs ?? DEFAULT_CACHE_TTL_MS;
    this.#negative = options.negative ?? false;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached answer for `name`, fresh (a negative one is `{ value: undefined }`), or undefined on a miss. */
  peek(name: string): { readonly value: V | undefined } | undefined {
    const entry = this.#entries.get(name);
    if (!entry) return undefined;
    if (this.#now() - entry.at >= this.#ttlMs) {
      this.#drop(name, entry);
      return undefined;
    }
    // Most recently used last in the insertion order: the first entry is the one to evict.
    this.#entries.delete(name);
    this.#entries.set(name, entry);
    return entry;
  }

  /** The cached answer for `name`, or `read()`'s, kept unless an invalidation arrived while reading. */
  async load(name: string, read: () => Promise<V | undefined>, under?: string): Promise<V | undefined> {
    const hit = this.peek(name);
    if (hit) return hit.value;
    const epoch = this.#epoch;
    const at = this.#now();
    const value = await read();
    if (epoch === this.#epoch && (value !== undefined || this.#negative)) this.#set(name, { value, at, under });
    return value;
  }

  /** Drops `name` and every entry filed under it; reads in flight are not kept. */
  invalidate(name: string): void {
    this.#epoch++;
    const entry = this.#entries.get(name);
    if (entry) this.#drop(name, entry);
    const filed = this.#under.get(name);
    if (filed) for (const n of [...filed]) this.#drop(n, this.#entries.get(n)!);
  }

  /** Drops everything; reads in flight are not kept. */
  clear(): void {
    this.#epoch++;
    this.#entries.clear();
    this.#under.clear();
  }

  /** Invalidates on every publication on `topic` (a key: that name; none: everything); returns the unsubscribe. */
  listen(port: InvalidationPort, topic: string): () => void {
    return port.subscribe(topic, (key) => (key === undefined ? this.clear() : this.invalidate(key)));
  }

  #set(name: string, entry: Entry<V>): void {
    const old = this.#entries.get(name);
    if (old) this.#drop(name, old);
    this.#entries.set(name, entry);
    if (entry.under !== undefined) {
      let filed = this.#under.get(entry.under);
      if (!filed) this.#under.set(entry.under, (filed = new Set()));
      filed.add(name);
    }
    if (this.#entries.size > this.#capacity) {
      const [oldest, e] = this.#entries.entries().next().value!;
      this.#drop(oldest, e);
    }
  }

  #drop(name: string, entry: Entry<V>): void {
    this.#entries.delete(name);
    if (entry.under === undefined) return;
    const filed = this.#under.get(entry.under);
    filed?.delete(name);
    if (filed?.size === 0) this.#under.delete(entry.under);
  }
}
