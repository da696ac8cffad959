import { SecretBytes } from '../crypto/secret-bytes.js';

/**
 * Unwrapped key materials, in memory only, bounded (least recently used out first).
 * Evicted entries are not wiped: a request may still hold one; the GC reclaims them.
 */
export class MaterialCache {
  readonly #entries = new Map<string, SecretBytes>();
  /** The entries of each key id, so that dropping a key's materials does not scan the whole cache. */
  readonly #byKey = new Map<string, Set<string>>();

  constructor(private readonly capacity = 4096) {}

  static key(keyId: string, materialId: string): string {
    return `${keyId}/${materialId}`;
  }

  get(k: string): SecretBytes | undefined {
    const v = this.#entries.get(k);
    if (v) {
      this.#entries.delete(k);
      this.#entries.set(k, v);
    }
    return v;
  }

  set(k: string, v: SecretBytes): void {
    this.#entries.delete(k);
    this.#entries.set(k, v);
    const keyId = k.slice(0, k.indexOf('/'));
    let set = this.#byKey.get(keyId);
    if (!set) this.#byKey.set(keyId, (set = new Set()));
    set.add(k);
    if (this.#entries.size > this.capacity) this.#forget(this.#entries.keys().next().value!);
  }

  dropKey(keyId: string): void {
    const set = this.#byKey.get(keyId);
    if (!set) return;
    for (const k of set) this.#entries.delete(k);
    this.#byKey.delete(keyId);
  }

  #forget(k: string): void {
    this.#entries.delete(k);
    const keyId = k.slice(0, k.indexOf('/'));
    const set = this.#byKey.get(keyId);
    set?.delete(k);
    if (set?.size === 0) this.#byKey.delete(keyId);
  }

  /** Drops every entry; with `wipe` (operator seal, once no request is in flight) zeroes them too. */
  clear(wipe = false): void {
    if (wipe) for (const v of this.#entries.values()) v.wipe();
    this.#entries.clear();
    this.#byKey.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
