import { createHash, createHmac, Hash, Hmac, randomBytes } from 'node:crypto';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AwsError } from '../errors/aws-error.js';
import { S3Errors } from '../errors/s3.js';
import { BlobStore } from '../../store/blob/blob-store.js';
import { StoredPart } from '../../store/metadata/s3-types.js';
import { createSealer, openRange, PACKAGE_BYTES, sealBuffer, sealedLength } from './packages.js';
import { ObjectIdentity, partBinding, partKey } from './sse.js';

/** S3's largest single PUT (and part): 5 GiB. https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;

/**
 * Sees every plaintext byte on the way in (checksums, size limits); `update` may throw to stop the body at
 * once, `verify` runs once the body ended, before commit.
 */
export interface BodyTap {
  update(chunk: Buffer): void;
  verify(): void;
}

export interface WrittenPart extends StoredPart {
  /** The digest of the plaintext `writePart` was asked for (see PlaintextDigest); undefined when none was. */
  readonly digest: Buffer | undefined;
}

/**
 * A digest of the plaintext computed in the same pass that seals it (it becomes the ETag):
 * `'md5'` the MD5 (SSE-S3 ETags), `{ hmacKey }` an HMAC-SHA256 under that key (a value deterministic in
 * the bytes that tells nothing about them to whoever lacks the key), undefined none at all.
 */
export type PlaintextDigest = 'md5' | { readonly hmacKey: Buffer } | undefined;

function startDigest(d: PlaintextDigest): Hash | Hmac | undefined {
  if (d === undefined) return undefined;
  return d === 'md5' ? createHash('md5') : createHmac('sha256', d.hmacKey);
}

/**
 * Writes a plaintext body as one sealed blob: the part key is derived from the object key and a fresh
 * salt, the packages are bound to the object's identity and part number. Nothing is visible until the
 * blob is committed, and it is committed only after the whole body arrived and every tap verified it;
 * on any failure the partial blob is removed.
 */
export async function writePart(
  blobs: BlobStore,
  plain: Readable,
  objectKey: Buffer,
  id: ObjectIdentity,
  partNumber: number,
  taps: readonly BodyTap[] = [],
  maxBytes = MAX_PUT_BYTES,
  /** The plaintext length when known up front (lets the blob store place a small body in the database). */
  plainLength?: number,
  /** Which digest of the plaintext to compute (the ETag's material); none by default. */
  digest: PlaintextDigest = undefined,
): Promise<WrittenPart> {
  const salt = randomBytes(16);
  const key = partKey(objectKey, partNumber, salt);
  if (plainLength !== undefined && plainLength <= SMALL_BODY_BYTES) {
    try {
      return await writeSmallPart(blobs, plain, key, partBinding(id, partNumber, salt), partNumber, salt, taps, Math.min(maxBytes, SMALL_BODY_BYTES), digest);
    } finally {
      key.fill(0);
    }
  }
  const hash = startDigest(digest);
  const meter = new Meter(hash, taps, maxBytes);
  const writer = await blobs.create(plainLength === undefined ? undefined : sealedLength(plainLength));
  try {
    await pipeline(plain, meter, createSealer(key, partBinding(id, partNumber, salt)), writer.stream);
    for (const t of taps) t.verify();
    await writer.commit();
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  } finally {
    key.fill(0);
  }
  return { partNumber, blobId: writer.id, size: meter.bytes, etag: '', salt: salt.toString('base64'), digest: hash?.digest() };
}

/** Bodies up to this size (one package) are read whole and sealed in one call: no stream stages per request. */
const SMALL_BODY_BYTES = PACKAGE_BYTES;

/** writePart for a small body: the same sealed bytes, checks and atomicity, without a stream pipeline. */
async function writeSmallPart(
  blobs: BlobStore,
  plain: Readable,
  key: Buffer,
  binding: Buffer,
  partNumber: number,
  salt: Buffer,
  taps: readonly BodyTap[],
  maxBytes: number,
  digest: PlaintextDigest,
): Promise<WrittenPart> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of plain) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      plain.destroy();
      throw new AwsError(S3Errors.EntityTooLarge, 'Your proposed upload exceeds the maximum allowed size');
    }
    chunks.push(chunk as Buffer);
    for (const t of taps) t.update(chunk as Buffer);
  }
  const body = Buffer.concat(chunks, size);
  for (const t of taps) t.verify();
  const value = startDigest(digest)?.update(body).digest();
  const sealed = sealBuffer(key, binding, body);
  const writer = await blobs.create(sealed.length);
  try {
    writer.stream.end(sealed);
    await writer.commit();
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
  return { partNumber, blobId: writer.id, size, etag: '', salt: salt.toString('base64'), digest: value };
}

/** The plaintext bytes [start, end] of a stored part. */
export function readPart(blobs: BlobStore, part: StoredPart, objectKey: Buffer, id: ObjectIdentity, range?: { start: number; end: number }): Readable {
  const salt = Buffer.from(part.salt, 'base64');
  const key = partKey(objectKey, part.partNumber, salt);
  return openRange(key, partBinding(id, part.partNumber, salt), part.size, range, (s, e) => blobs.read(part.blobId, { start: s, end: e }));
}

/** The plaintext bytes [start, end] of an object made of `parts` (one for a simple PUT), read part by part. */
export function readObject(blobs: BlobStore, parts: readonly StoredPart[], objectKey: Buffer, id: ObjectIdentity, range?: { start: number; end: number }): Readable {
  const total = parts.reduce((n, p) => n + p.size, 0);
  const { start, end } = range ?? { start: 0, end: total - 1 };
  if (parts.length === 1 && range === undefined) return readPart(blobs, parts[0]!, objectKey, id);
  async function* chunks() {
    let offset = 0;
    for (const part of parts) {
      const pStart = offset;
      const pEnd = offset + part.size - 1;
      offset += part.size;
      if (part.size === 0 || pEnd < start || pStart > end) continue;
      yield* readPart(blobs, part, objectKey, id, { start: Math.max(start, pStart) - pStart, end: Math.min(end, pEnd) - pStart });
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Counts bytes, feeds the digest and the taps, and stops a body that grows past the limit. */
class Meter extends Transform {
  bytes = 0;

  constructor(
    private readonly hash: Hash | Hmac | undefined,
    private readonly taps: readonly BodyTap[],
    private readonly max: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) {
      done(new AwsError(S3Errors.EntityTooLarge, 'Your proposed upload exceeds the maximum allowed size'));
      return;
    }
    this.hash?.update(chunk);
    try {
      for (const t of this.taps) t.update(chunk);
    } catch (err) {
      done(err as Error);
      return;
    }
    done(null, chunk);
  }
}
