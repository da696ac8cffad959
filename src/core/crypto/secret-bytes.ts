import { timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

const REDACTED = '[SecretBytes]';

/**
 * Plaintext key material, data keys and plaintexts travel as SecretBytes: it has no useful toString,
 * toJSON or inspect, so a stray log line or error message prints "[SecretBytes]" instead of the secret.
 * `reveal()` is the one door to the bytes and is named so that reviews can grep for it.
 */
export class SecretBytes {
  #bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Takes ownership of `bytes` (the caller must not keep using the buffer). */
  static adopt(bytes: Buffer): SecretBytes {
    return new SecretBytes(bytes);
  }

  get length(): number {
    return this.#bytes.length;
  }

  reveal(): Buffer {
    return this.#bytes;
  }

  equals(other: SecretBytes): boolean {
    const a = this.#bytes;
    const b = other.#bytes;
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Overwrites the bytes; later reads see zeros. */
  wipe(): void {
    this.#bytes.fill(0);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
