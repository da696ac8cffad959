import { createHash, createHmac, randomBytes } from 'node:crypto';
import { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { BodyTap, MAX_PUT_BYTES, PlaintextDigest, writePart } from '../../core/s3/bodies.js';
import { SseChoice } from '../../core/s3/sse.js';
import { BucketRecord, ObjectChecksum, ObjectEncryption, ObjectVersionRecord, StoredPart, WriteCondition } from '../../store/metadata/s3-types.js';
import { S3Call } from './call.js';
import { committing } from './write-conditions.js';

/** A new version id: 32 URL-safe characters, as S3's look. */
export const newVersionId = (): string => randomBytes(24).toString('base64url');

/** Whether new writes to the bucket keep older versions. */
export const keepsVersions = (bucket: BucketRecord): boolean => bucket.versioning === 'Enabled';

/**
 * The ETag of a single-part object: the MD5 of its bytes for SSE-S3 objects; for SSE-KMS and SSE-C an
 * opaque value that is not the MD5 — as S3 documents (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html,
 * "ETag") — derived from the object's fresh key and the part's random salt, so no digest of the plaintext
 * is computed for them at all. `digest`: what writePart computed as `objectDigest` asked.
 */
export function etagOf(encryption: ObjectEncryption, digest: Buffer | undefined, objectKey: Buffer, salt: string): string {
  if (encryption.algorithm === 'AES256') {
    if (!digest) throw new Error('an SSE-S3 ETag needs the MD5 of the body');
    return digest.toString('hex');
  }
  return createHmac('sha256', objectKey).update('strongroom s3 etag').update(salt).digest('hex').slice(0, 32);
}

/** The plaintext digest a single-part object's ETag needs (the MD5 for SSE-S3, none otherwise). */
export const objectDigest = (encryption: ObjectEncryption): PlaintextDigest => (encryption.algorithm === 'AES256' ? 'md5' : undefined);

/**
 * The plaintext digest a multipart part's ETag is made of. SSE-S3: the MD5, as S3. SSE-KMS and SSE-C: an
 * HMAC-SHA256 of the bytes under a key derived from the upload's object key, so that a part re-sent with the
 * same bytes (a client's retry) gets the same ETag and CompleteMultipartUpload still accepts the part list the
 * client holds — while the value, keyed per upload, tells nothing about the plaintext (no MD5 to guess
 * against). One pass over the bytes, in the stream that seals them (SHA-256 is also cheaper than MD5 here).
 */
export function partDigest(encryption: ObjectEncryption, objectKey: Buffer): PlaintextDigest {
  if (encryption.algorithm === 'AES256') return 'md5';
  return { hmacKey: createHmac('sha256', objectKey).update('strongroom s3 part etag').digest() };
}

/** A part's ETag from the digest `partDigest` asked for: 32 hex characters either way. */
export function partEtagOf(digest: Buffer | undefined): string {
  if (!digest) throw new Error('a part ETag needs the digest of the part');
  return digest.toString('hex').slice(0, 32);
}

/** Content-MD5: a base64 MD5 the body must match (BadDigest), checked before the object is committed. */
export function contentMd5Tap(headers: IncomingHttpHeaders): BodyTap | undefined {
  const given = headers['content-md5'];
  if (typeof given !== 'string') return undefined;
  const expected = Buffer.from(given.trim(), 'base64');
  if (expected.length !== 16 || !/^[A-Za-z0-9+/]{22}==$/.test(given.trim())) throw new AwsError(S3Errors.InvalidDigest, 'The Content-MD5 you specified was invalid.');
  const md5 = createHash('md5');
  return {
    update: (chunk) => md5.update(chunk),
    verify: () => {
      if (!md5.digest().equals(expected)) throw new AwsError(S3Errors.BadDigest, 'The Content-MD5 you specified did not match what we received.');
    },
  };
}

export interface NewObject {
  readonly bucket: BucketRecord;
  readonly key: string;
  readonly sse: SseChoice;
  readonly headers: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly taps?: readonly BodyTap[];
  readonly checksum?: () => ObjectChecksum | undefined;
  /** The body's length when the request declared it. */
  readonly length?: number;
  /** If-None-Match / If-Match (write-conditions.ts), checked again in the commit. */
  readonly condition?: WriteCondition;
}

/**
 * Writes a new object: a fresh object key sealed as `sse` asks (KMS is called as the requester), the body
 * sealed into a blob, then one metadata transaction makes it the latest version. Blobs of versions it
 * replaced are removed after the commit; a failure before the commit leaves nothing behind.
 */
export async function putObject(call: S3Call, o: NewObject, body: Readable): Promise<ObjectVersionRecord> {
  const id = { bucket: o.bucket.name, key: o.key };
  const { objectKey, encryption } = await call.deps.keys.create(o.sse, id, call.kmsFor(o.bucket));
  try {
    const part = await writePart(call.deps.blobs, body, objectKey, id, 1, o.taps ?? [], MAX_PUT_BYTES, o.length, objectDigest(encryption));
    const { digest, ...stored } = part;
    const checksum = o.checksum?.();
    const version: ObjectVersionRecord = {
      bucket: o.bucket.name,
      key: o.key,
      versionId: keepsVersions(o.bucket) ? newVersionId() : 'null',
      isLatest: true,
      deleteMarker: false,
      lastModified: call.deps.clock.now(),
      size: part.size,
      etag: etagOf(encryption, digest, objectKey, stored.salt),
      ownerAccountId: call.request.principal.accountId,
      headers: o.headers,
      metadata: o.metadata,
      ...(checksum ? { checksum } : {}),
      encryption,
      parts: [stored],
    };
    await commitVersion(call, version, o.bucket, o.condition);
    return version;
  } finally {
    objectKey.fill(0);
  }
}

/**
 * Makes `version` the latest of its key (when `condition` holds at that moment) and removes the blobs of
 * what it replaced; on failure its own blobs go.
 */
export async function commitVersion(call: S3Call, version: ObjectVersionRecord, bucket: BucketRecord, condition?: WriteCondition): Promise<void> {
  let replaced: ObjectVersionRecord[];
  try {
    replaced = await committing(condition, () => call.deps.store.putVersion(version, keepsVersions(bucket), condition));
  } catch (err) {
    await removeBlobs(call, version.parts);
    throw err;
  }
  for (const r of replaced) await removeBlobs(call, r.parts);
}

/** Deletes blobs nobody refers to any more (a failure leaves them to garbage collection). */
export async function removeBlobs(call: S3Call, parts: readonly StoredPart[]): Promise<void> {
  for (const p of parts) await call.deps.blobs.delete(p.blobId).catch(() => undefined);
}
