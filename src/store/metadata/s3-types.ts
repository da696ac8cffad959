/**
 * What the S3 object store keeps about buckets, object versions and multipart uploads (bodies live in the
 * blob store; this holds where they are and how their keys are sealed). Implementations run
 * test/contract/s3-store.contract.ts.
 */

export type SseAlgorithm = 'AES256' | 'aws:kms' | 'aws:kms:dsse';
export type VersioningStatus = 'Enabled' | 'Suspended';

/** A bucket's default encryption (PutBucketEncryption), as S3 stores it. */
export interface BucketEncryption {
  readonly algorithm: SseAlgorithm;
  readonly kmsMasterKeyId?: string;
  readonly bucketKeyEnabled: boolean;
  /** BlockedEncryptionTypes: 'SSE-C' blocks uploads with customer-provided keys. */
  readonly blockedTypes: readonly ('NONE' | 'SSE-C')[];
}

export interface BucketRecord {
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly createdAt: number;
  readonly versioning: VersioningStatus | null;
  /** null: never configured (S3 then encrypts with SSE-S3, and answers that as the configuration). */
  readonly encryption: BucketEncryption | null;
  readonly policy: string | null;
}

export type BucketPatch = Partial<Pick<BucketRecord, 'versioning' | 'encryption' | 'policy'>>;

/**
 * How an object's (or upload's) data key is sealed. The data key itself is never stored.
 * - `s3`: SSE-S3, sealed by the service key (itself wrapped by the root of trust).
 * - `kms`: SSE-KMS, the CiphertextBlob of a KMS data key (GenerateDataKey with the object's context).
 * - `bucket-key`: SSE-KMS with an S3 Bucket Key: the bucket key's CiphertextBlob and the object key sealed by it.
 * - `sse-c`: sealed by a key derived from the customer's key; `keyHmac` (salted) only tells a wrong key.
 */
export type SealedKey =
  | { readonly kind: 's3'; readonly sealed: string }
  | { readonly kind: 'kms'; readonly ciphertextBlob: string }
  | { readonly kind: 'bucket-key'; readonly bucketKeyBlob: string; readonly sealed: string }
  | { readonly kind: 'sse-c'; readonly salt: string; readonly keyHmac: string; readonly sealed: string };

/** An object's server-side encryption as S3 reports it, plus its sealed key. */
export interface ObjectEncryption {
  readonly algorithm: SseAlgorithm | 'SSE-C';
  /** SSE-KMS: the key ARN. */
  readonly kmsKeyArn?: string;
  /** SSE-KMS: the encryption context the caller gave (x-amz-server-side-encryption-context, decoded JSON). */
  readonly context?: Readonly<Record<string, string>>;
  readonly bucketKeyEnabled?: boolean;
  /** SSE-C: base64 MD5 of the customer key (S3 echoes it back). */
  readonly customerKeyMd5?: string;
  readonly key: SealedKey;
}

/** One stored body: a whole object, or one part of a multipart object (each part has its own key). */
export interface StoredPart {
  readonly partNumber: number;
  readonly blobId: string;
  /** Plaintext bytes. */
  readonly size: number;
  readonly etag: string;
  /** Salt of the part key (derived from the object key); base64. */
  readonly salt: string;
  readonly checksum?: Readonly<Record<string, string>>;
  readonly lastModified?: number;
}

export interface ObjectChecksum {
  readonly algorithm: string;
  readonly value: string;
  readonly type: 'FULL_OBJECT' | 'COMPOSITE';
}

export interface ObjectVersionRecord {
  readonly bucket: string;
  readonly key: string;
  /** 'null' for the version of an unversioned (or suspended) bucket. */
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
  readonly lastModified: number;
  readonly size: number;
  readonly etag: string;
  readonly ownerAccountId: string;
  /** Content-Type, Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires as sent. */
  readonly headers: Readonly<Record<string, string>>;
  /** x-amz-meta-* (names lower-case, without the prefix). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly checksum?: ObjectChecksum;
  readonly encryption: ObjectEncryption | null;
  readonly parts: readonly StoredPart[];
}

export interface UploadRecord {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly initiated: number;
  readonly ownerAccountId: string;
  readonly initiatorArn: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly checksumAlgorithm?: string;
  /** How the parts' checksums combine at completion (x-amz-checksum-type at CreateMultipartUpload). */
  readonly checksumType?: 'COMPOSITE' | 'FULL_OBJECT';
  readonly encryption: ObjectEncryption;
}

/**
 * A conditional write (If-None-Match: * / If-Match: <etag>), checked against the key's current version in
 * the transaction that commits the new one, so that two writers cannot both pass it.
 */
export interface WriteCondition {
  /** If-None-Match: * — the key has no current version, or a delete marker. */
  readonly ifNoneMatch?: true;
  /** If-Match — the key's current version is an object with this ETag (unquoted). */
  readonly ifMatch?: string;
}

/** A WriteCondition that did not hold at commit: 'exists' (If-None-Match), 'missing' or 'etag' (If-Match). */
export class WriteConditionFailed extends Error {
  override readonly name = 'WriteConditionFailed';

  constructor(readonly reason: 'exists' | 'missing' | 'etag') {
    super(`write condition failed: ${reason}`);
  }
}

export interface ListQuery {
  readonly prefix: string;
  /** Keys strictly after this one. */
  readonly after: string;
  readonly limit: number;
}

export interface VersionListQuery {
  readonly prefix: string;
  readonly keyMarker: string;
  readonly versionIdMarker: string;
  readonly limit: number;
}

export interface S3Store {
  /** False when a bucket of that name exists (in any account). */
  createBucket(bucket: BucketRecord): Promise<boolean>;
  getBucket(name: string): Promise<BucketRecord | undefined>;
  listBuckets(accountId: string): Promise<BucketRecord[]>;
  updateBucket(name: string, patch: BucketPatch): Promise<BucketRecord | undefined>;
  /**
   * 'not-empty' while any object version (or delete marker) remains. In-progress multipart uploads do not
   * keep a bucket: they are aborted in the same transaction, and their parts are returned (their blobs can go).
   */
  deleteBucket(name: string): Promise<{ readonly abortedParts: StoredPart[] } | 'missing' | 'not-empty'>;

  /**
   * Writes a new version and makes it the latest. `versioned`: keep the versions before it; otherwise the
   * 'null' version is replaced. Returns the versions it removed (their blobs can go). `condition`: checked
   * in the same transaction; rejects with WriteConditionFailed (nothing written) when it does not hold.
   */
  putVersion(version: ObjectVersionRecord, versioned: boolean, condition?: WriteCondition): Promise<ObjectVersionRecord[]>;
  /** The latest version (undefined when none), or a given one. */
  getVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersionRecord | undefined>;
  /** Removes one version; the next newest becomes latest. */
  deleteVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersionRecord | undefined>;
  /** Latest versions that are not delete markers, by key (UTF-8 byte order), after `after`, with `prefix`. */
  listLatest(bucket: string, q: ListQuery): Promise<ObjectVersionRecord[]>;
  /** Every version, by key then newest first. */
  listVersions(bucket: string, q: VersionListQuery): Promise<ObjectVersionRecord[]>;

  createUpload(upload: UploadRecord): Promise<void>;
  getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord | undefined>;
  /** Replaces a part of the same number; returns the part it replaced. */
  putPart(uploadId: string, part: StoredPart): Promise<StoredPart | undefined>;
  listParts(uploadId: string, afterPart: number, limit: number): Promise<StoredPart[]>;
  listUploads(bucket: string, prefix: string, keyMarker: string, uploadIdMarker: string, limit: number): Promise<UploadRecord[]>;
  /**
   * Completes an upload atomically: the upload and its parts go, the object version is written.
   * Returns the replaced versions and the uploaded parts the object did not use (their blobs can go),
   * or undefined when the upload no longer exists. `condition` as for putVersion (the upload then stays).
   */
  completeUpload(uploadId: string, version: ObjectVersionRecord, versioned: boolean, condition?: WriteCondition): Promise<{ replaced: ObjectVersionRecord[]; unused: StoredPart[] } | undefined>;
  /** Removes the upload; returns its parts (their blobs can go), undefined when it did not exist. */
  abortUpload(uploadId: string): Promise<StoredPart[] | undefined>;

  /**
   * Resolves once every write before the call is on disk. Writes resolve at commit; the S3 service relies
   * on the call's audit record (made durable before the answer) and other writers call this.
   */
  durable(): Promise<void>;

  /** The SSE-S3 service key, wrapped by the root of trust; undefined until first use. */
  getServiceKey(): Promise<Buffer | undefined>;
  /** Stores the wrapped service key unless one exists; returns the one stored (first writer wins). */
  putServiceKey(wrapped: Buffer): Promise<Buffer>;

  /** Every blob id the metadata refers to (objects and upload parts), for garbage collection. */
  referencedBlobs(): Promise<Set<string>>;
}
