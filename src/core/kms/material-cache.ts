import { SecretBytes } from '../crypto/secret-bytes.js';

/**
 * Unwrapped key materials, in memory only, bounded (least recently used out first).
 * Evicted entries are not wiped: a request may still hold one; the GC reclaims them.
 */
export class MaterialCache {
  readonly #entries = new Map<string, SecretBytes>();

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
    if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value!);
  }

  dropKey(keyId: string): void {
    for (const k of this.#entries.keys()) if (k.startsWith(`${keyId}/`)) this.#entries.delete(k);
  }

  get size(): number {
    return this.#entries.size;
  }
}
