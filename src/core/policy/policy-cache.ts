import { createHash } from 'node:crypto';
import { CompiledPolicy, parsePolicy } from './parse-policy.js';
import { PolicyKind } from './statement.js';

/**
 * Compiled policies by document text, so that each document is parsed once: a bounded LRU keyed by the
 * SHA-256 of the text (and the kind it was compiled as). Documents that fail to parse are not cached;
 * the PolicyError is thrown to every caller.
 */
export class PolicyCache {
  private readonly entries = new Map<string, CompiledPolicy>();

  constructor(readonly capacity = 1024) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('PolicyCache capacity must be a positive integer');
  }

  get(json: string, kind: PolicyKind): CompiledPolicy {
    const key = `${kind}:${createHash('sha256').update(json, 'utf8').digest('base64')}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const compiled = parsePolicy(json, kind);
    this.entries.set(key, compiled);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return compiled;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
