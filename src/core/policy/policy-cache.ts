import { CompiledPolicy, parsePolicy } from './parse-policy.js';
import { PolicyKind } from './statement.js';

/** A document's compilations, by the kind it was compiled as. */
type Compiled = Partial<Record<PolicyKind, CompiledPolicy>>;

/**
 * Compiled policies by document text, so that each document is parsed once: a bounded LRU keyed by the
 * text itself (then by the kind it was compiled as). A Map hashes a string key once per string (V8 keeps
 * the hash with the string), so the key policy of a cached key record costs a lookup on every request,
 * not a digest of the document. Bounded in documents (`capacity`) and in the characters of their texts
 * (`maxChars`; the most recent document is kept whatever its size). Documents that fail to parse are not
 * cached; the PolicyError is thrown to every caller.
 */
export class PolicyCache {
  private readonly entries = new Map<string, Compiled>();
  #chars = 0;

  constructor(
    readonly capacity = 1024,
    readonly maxChars = 8 * 1024 * 1024,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('PolicyCache capacity must be a positive integer');
    if (!Number.isInteger(maxChars) || maxChars < 1) throw new RangeError('PolicyCache maxChars must be a positive integer');
  }

  get(json: string, kind: PolicyKind): CompiledPolicy {
    const hit = this.entries.get(json);
    if (hit !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.entries.delete(json);
      this.entries.set(json, hit);
      return (hit[kind] ??= parsePolicy(json, kind));
    }
    const compiled = parsePolicy(json, kind);
    this.entries.set(json, { [kind]: compiled });
    this.#chars += json.length;
    while (this.entries.size > this.capacity || (this.#chars > this.maxChars && this.entries.size > 1)) {
      const oldest = this.entries.keys().next().value!;
      this.entries.delete(oldest);
      this.#chars -= oldest.length;
    }
    return compiled;
  }

  /** How many documents are cached. */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.#chars = 0;
  }
}
