import { randomBytes, KeyObject } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { encodeHeader, importKey, MAX_PACKAGES, NONCE_BYTES, PACKAGE_BYTES, PackageKey, sealPackage } from './package-format.js';

/**
 * Plaintext in, sealed bytes out (the format is in package-format.ts). Output is exactly
 * sealedLength(bytes written) long.
 *
 * A package can only be sealed once we know whether it is the last one (the final flag is in its AAD), so
 * the sealer holds back up to one package: a full package goes out as soon as one more byte arrives after it,
 * and whatever is held at the end goes out flagged final. Memory stays at one package plus the chunk being
 * written, whatever the object's size; the Transform's own backpressure keeps the output side bounded.
 */
export function createSealer(key: PackageKey, binding: Buffer): Transform {
  return new PackageSealer(importKey(key), binding);
}

/**
 * The same sealed bytes createSealer would produce, for a plaintext already in memory (small objects:
 * no stream machinery per request).
 */
export function sealBuffer(key: PackageKey, binding: Buffer, plain: Buffer): Buffer {
  const k = importKey(key);
  const streamNonce = randomBytes(NONCE_BYTES);
  const header = encodeHeader(streamNonce);
  const aadPrefix = Buffer.concat([header, binding]);
  const out = [header];
  const count = Math.max(1, Math.ceil(plain.length / PACKAGE_BYTES));
  if (count > MAX_PACKAGES) throw new RangeError('the object is too large for one sealed stream');
  for (let i = 0; i < count; i++) {
    out.push(sealPackage(k, streamNonce, aadPrefix, i, i === count - 1, plain.subarray(i * PACKAGE_BYTES, (i + 1) * PACKAGE_BYTES)));
  }
  return Buffer.concat(out);
}

class PackageSealer extends Transform {
  readonly #key: KeyObject;
  readonly #streamNonce = randomBytes(NONCE_BYTES);
  readonly #header = encodeHeader(this.#streamNonce);
  readonly #aadPrefix: Buffer;
  /** The package being filled; reused, since sealing copies it into a fresh ciphertext buffer. */
  readonly #package = Buffer.allocUnsafe(PACKAGE_BYTES);
  #filled = 0;
  #index = 0;
  #headerSent = false;

  constructor(key: KeyObject, binding: Buffer) {
    // Sealed packages may queue up to 1 MiB for the blob writer: sealing the next ones overlaps the disk writes.
    super({ readableHighWaterMark: 1024 * 1024 });
    this.#key = key;
    this.#aadPrefix = Buffer.concat([this.#header, binding]);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      if (!Buffer.isBuffer(chunk)) throw new TypeError('the sealer takes Buffers');
      let offset = 0;
      while (offset < chunk.length) {
        // A full package is sealed only now that more bytes follow it: it is not the last one.
        if (this.#filled === PACKAGE_BYTES) this.#emit(false);
        const n = chunk.copy(this.#package, this.#filled, offset, offset + PACKAGE_BYTES - this.#filled);
        this.#filled += n;
        offset += n;
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      // 0..PACKAGE_BYTES bytes are held: the last package, empty only when the whole object is.
      this.#emit(true);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  #emit(final: boolean): void {
    if (this.#index >= MAX_PACKAGES) throw new RangeError('the object is too large for one sealed stream');
    if (!this.#headerSent) {
      this.push(this.#header);
      this.#headerSent = true;
    }
    const plain = this.#package.subarray(0, this.#filled);
    this.push(sealPackage(this.#key, this.#streamNonce, this.#aadPrefix, this.#index, final, plain));
    this.#index++;
    this.#filled = 0;
  }
}
