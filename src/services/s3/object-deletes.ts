import { BucketRecord, ObjectVersionRecord } from '../../store/metadata/s3-types.js';
import { S3Call } from './call.js';
import { checkVersionId } from './object-reads.js';
import { commitVersion, newVersionId, removeBlobs } from './object-writes.js';

export interface Deleted {
  readonly deleteMarker: boolean;
  readonly versionId?: string;
}

/**
 * S3's delete semantics (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html):
 * - with a version id: that version is removed for good (deleting a missing one succeeds);
 * - unversioned bucket: the object is removed (deleting a missing key succeeds);
 * - versioning enabled: a delete marker becomes the latest version;
 * - versioning suspended: a delete marker with version id "null" replaces the null version.
 */
export async function deleteObject(call: S3Call, bucket: BucketRecord, key: string, versionId: string | undefined): Promise<Deleted> {
  const { store } = call.deps;
  if (versionId !== undefined) {
    checkVersionId(versionId);
    const removed = await store.deleteVersion(bucket.name, key, versionId);
    if (removed) await removeBlobs(call, removed.parts);
    return { deleteMarker: removed?.deleteMarker ?? false, versionId };
  }
  if (bucket.versioning === null) {
    const removed = await store.deleteVersion(bucket.name, key, 'null');
    if (removed) await removeBlobs(call, removed.parts);
    return { deleteMarker: false };
  }
  const marker: ObjectVersionRecord = {
    bucket: bucket.name,
    key,
    versionId: bucket.versioning === 'Enabled' ? newVersionId() : 'null',
    isLatest: true,
    deleteMarker: true,
    lastModified: call.deps.clock.now(),
    size: 0,
    etag: '',
    ownerAccountId: call.request.principal.accountId,
    headers: {},
    metadata: {},
    encryption: null,
    parts: [],
  };
  await commitVersion(call, marker, bucket);
  return { deleteMarker: true, versionId: marker.versionId };
}
