import { Readable } from 'node:stream';
import { writePart } from '../../core/s3/bodies.js';
import { KmsForS3, SseChoice } from '../../core/s3/sse.js';
import { BucketRecord, ObjectVersionRecord } from '../../store/metadata/s3-types.js';
import { S3Deps } from './call.js';
import { etagOf, keepsVersions, newVersionId, objectDigest } from './object-writes.js';
import { effectiveSse } from './sse-headers.js';

/** An object an AWS service writes on its own behalf (CloudTrail's log and digest files). */
export interface ServiceObject {
  readonly bucket: BucketRecord;
  readonly key: string;
  readonly body: Buffer;
  /** Content-Type and the like, as PutObject stores them. */
  readonly headers: Readonly<Record<string, string>>;
  /** x-amz-meta-* without the prefix. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The encryption the writer asks for (CloudTrail: SSE-KMS under the trail's key); absent: the bucket's default. */
  readonly sse?: SseChoice;
  /** KMS as the writing service calls it (its own service principal), for SSE-KMS; absent: SSE-KMS is refused. */
  readonly kms?: KmsForS3;
}

/** A writer without KMS: SSE-S3 seals with the service key; SSE-KMS is refused (ServiceWriteUnsupported). */
const NO_KMS: KmsForS3 = {
  callerArn: 'strongroom:service-write',
  generateDataKey: () => Promise.reject(new Error('service writes do not call KMS')),
  decrypt: () => Promise.reject(new Error('service writes do not call KMS')),
};

/** Why a service write was refused (SSE-KMS asked of a writer that has no way to KMS). */
export class ServiceWriteUnsupported extends Error {}

/**
 * Writes an object as an AWS service, not as a caller: no S3Call, no request, no authorization here (the
 * service's own check — CloudTrail's bucket policy — comes first, in the caller of this function), and no
 * audit record (AWS does record CloudTrail's PutObject as a data event of the bucket; we leave it out so a
 * trail whose selectors cover its own bucket does not feed on itself). Otherwise it is putObject's path
 * (object-writes.ts): a fresh object key sealed as the bucket's default encryption asks (SSE-S3 when none),
 * the body sealed into a blob, one metadata transaction making it the latest version; nothing is visible
 * before that commit, and a failure before it leaves no blob behind.
 * SSE-KMS (asked, or the bucket's default) calls KMS through `o.kms` — as the writing service, whose key
 * policy must let it in (S3 calls KMS as the requester, and here the requester is the service).
 */
export async function putServiceObject(deps: S3Deps, o: ServiceObject): Promise<ObjectVersionRecord> {
  const sse = o.sse ?? effectiveSse({}, true, o.bucket.encryption);
  if (sse.kind === 'SSE-C' || (sse.kind === 'kms' && !o.kms)) throw new ServiceWriteUnsupported(`${sse.kind} is not supported for this service delivery`);
  const id = { bucket: o.bucket.name, key: o.key };
  const { objectKey, encryption } = await deps.keys.create(sse, id, o.kms ?? NO_KMS);
  try {
    const { digest, ...stored } = await writePart(deps.blobs, Readable.from([o.body]), objectKey, id, 1, [], undefined, o.body.length, objectDigest(encryption));
    const version: ObjectVersionRecord = {
      bucket: o.bucket.name,
      key: o.key,
      versionId: keepsVersions(o.bucket) ? newVersionId() : 'null',
      isLatest: true,
      deleteMarker: false,
      lastModified: deps.clock.now(),
      size: stored.size,
      etag: etagOf(encryption, digest, objectKey, stored.salt),
      // bucket-owner-full-control, and S3's default BucketOwnerEnforced: the bucket owner owns what services write.
      ownerAccountId: o.bucket.accountId,
      headers: o.headers,
      metadata: o.metadata,
      encryption,
      parts: [stored],
    };
    let replaced: ObjectVersionRecord[];
    try {
      replaced = await deps.store.putVersion(version, keepsVersions(o.bucket));
    } catch (err) {
      await deps.blobs.delete(stored.blobId).catch(() => undefined);
      throw err;
    }
    // No audit record follows a service's own write: make it durable here (a failure is retried by the caller).
    await deps.store.durable();
    for (const r of replaced) for (const p of r.parts) await deps.blobs.delete(p.blobId).catch(() => undefined);
    return version;
  } finally {
    objectKey.fill(0);
  }
}
