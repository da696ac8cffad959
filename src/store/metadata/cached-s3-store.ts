import { Cache, CacheSettings } from '../../core/cache/cache.js';
import { InProcessInvalidation, InvalidationPort, TOPICS } from '../../core/cache/invalidation.js';
import {
  BucketPatch, BucketRecord, ListQuery, ObjectVersionRecord, S3Store, StoredPart, UploadRecord, VersionListQuery, WriteCondition,
} from './s3-types.js';

/**
 * An S3 store that keeps bucket records in memory (src/core/cache): every S3 request reads its bucket
 * (policy, default encryption, versioning). Every bucket write through it publishes the bucket name on the
 * invalidation port once written (TOPICS.s3Buckets), dropping the record here and in every process sharing
 * the port; the TTL bounds how long a lost publication can leave a stale record elsewhere. Object versions,
 * uploads and the listings are not cached.
 */
export class BucketCachingStore implements S3Store {
  readonly #buckets: Cache<BucketRecord>;
  readonly #port: InvalidationPort;

  constructor(
    private readonly inner: S3Store,
    /** Without a port: this process's own (the store is not shared). */
    settings: Partial<CacheSettings> = {},
  ) {
    this.#port = settings.port ?? new InProcessInvalidation();
    this.#buckets = new Cache({
      ...(settings.ttlMs !== undefined ? { ttlMs: settings.ttlMs } : {}),
      ...(settings.now ? { now: settings.now } : {}),
    });
    this.#buckets.listen(this.#port, TOPICS.s3Buckets);
  }

  getBucket(name: string): Promise<BucketRecord | undefined> {
    return this.#buckets.load(name, () => this.inner.getBucket(name));
  }

  createBucket(bucket: BucketRecord): Promise<boolean> {
    return this.#writing(bucket.name, () => this.inner.createBucket(bucket));
  }

  updateBucket(name: string, patch: BucketPatch): Promise<BucketRecord | undefined> {
    return this.#writing(name, () => this.inner.updateBucket(name, patch));
  }

  deleteBucket(name: string): Promise<{ readonly abortedParts: StoredPart[] } | 'missing' | 'not-empty'> {
    return this.#writing(name, () => this.inner.deleteBucket(name));
  }

  /** Publishes the bucket name once the write is done (or failed); reads in flight meanwhile are not cached. */
  async #writing<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      await this.#port.publish(TOPICS.s3Buckets, name);
    }
  }

  // Everything else passes through unchanged.
  listBuckets(accountId: string): Promise<BucketRecord[]> { return this.inner.listBuckets(accountId); }
  putVersion(version: ObjectVersionRecord, versioned: boolean, condition?: WriteCondition): Promise<ObjectVersionRecord[]> {
    return this.inner.putVersion(version, versioned, condition);
  }
  getVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersionRecord | undefined> { return this.inner.getVersion(bucket, key, versionId); }
  deleteVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersionRecord | undefined> { return this.inner.deleteVersion(bucket, key, versionId); }
  listLatest(bucket: string, q: ListQuery): Promise<ObjectVersionRecord[]> { return this.inner.listLatest(bucket, q); }
  listVersions(bucket: string, q: VersionListQuery): Promise<ObjectVersionRecord[]> { return this.inner.listVersions(bucket, q); }
  createUpload(upload: UploadRecord): Promise<void> { return this.inner.createUpload(upload); }
  getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord | undefined> { return this.inner.getUpload(bucket, key, uploadId); }
  putPart(uploadId: string, part: StoredPart): Promise<StoredPart | undefined> { return this.inner.putPart(uploadId, part); }
  listParts(uploadId: string, afterPart: number, limit: number): Promise<StoredPart[]> { return this.inner.listParts(uploadId, afterPart, limit); }
  listUploads(bucket: string, prefix: string, keyMarker: string, uploadIdMarker: string, limit: number): Promise<UploadRecord[]> {
    return this.inner.listUploads(bucket, prefix, keyMarker, uploadIdMarker, limit);
  }
  completeUpload(
    uploadId: string, version: ObjectVersionRecord, versioned: boolean, condition?: WriteCondition,
  ): Promise<{ replaced: ObjectVersionRecord[]; unused: StoredPart[] } | undefined> {
    return this.inner.completeUpload(uploadId, version, versioned, condition);
  }
  abortUpload(uploadId: string): Promise<StoredPart[] | undefined> { return this.inner.abortUpload(uploadId); }
  durable(): Promise<void> { return this.inner.durable(); }
  getServiceKey(): Promise<Buffer | undefined> { return this.inner.getServiceKey(); }
  putServiceKey(wrapped: Buffer): Promise<Buffer> { return this.inner.putServiceKey(wrapped); }
  referencedBlobs(): Promise<Set<string>> { return this.inner.referencedBlobs(); }
}
