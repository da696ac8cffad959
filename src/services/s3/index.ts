import { OperationCodec } from '../service.js';
import { S3Operation } from './call.js';
import { AbortMultipartUpload } from './operations/AbortMultipartUpload.js';
import { CompleteMultipartUpload } from './operations/CompleteMultipartUpload.js';
import { CopyObject } from './operations/CopyObject.js';
import { CreateMultipartUpload } from './operations/CreateMultipartUpload.js';
import { CreateBucket } from './operations/CreateBucket.js';
import { DeleteBucket } from './operations/DeleteBucket.js';
import { DeleteBucketEncryption } from './operations/DeleteBucketEncryption.js';
import { DeleteBucketPolicy } from './operations/DeleteBucketPolicy.js';
import { DeleteObject } from './operations/DeleteObject.js';
import { DeleteObjects } from './operations/DeleteObjects.js';
import { GetBucketEncryption } from './operations/GetBucketEncryption.js';
import { GetBucketLocation } from './operations/GetBucketLocation.js';
import { GetBucketPolicy } from './operations/GetBucketPolicy.js';
import { GetBucketVersioning } from './operations/GetBucketVersioning.js';
import { GetObject, HeadObject } from './operations/GetObject.js';
import { GetObjectAttributes } from './operations/GetObjectAttributes.js';
import { GetObjectTagging } from './operations/GetObjectTagging.js';
import { HeadBucket } from './operations/HeadBucket.js';
import { ListBuckets } from './operations/ListBuckets.js';
import { ListMultipartUploads } from './operations/ListMultipartUploads.js';
import { ListObjectVersions } from './operations/ListObjectVersions.js';
import { ListObjects } from './operations/ListObjects.js';
import { ListObjectsV2 } from './operations/ListObjectsV2.js';
import { ListParts } from './operations/ListParts.js';
import { PutBucketEncryption } from './operations/PutBucketEncryption.js';
import { PutBucketPolicy } from './operations/PutBucketPolicy.js';
import { PutBucketVersioning } from './operations/PutBucketVersioning.js';
import { PostObject } from './operations/PostObject.js';
import { PutObject } from './operations/PutObject.js';
import { UploadPart } from './operations/UploadPart.js';
import { UploadPartCopy } from './operations/UploadPartCopy.js';

/** The S3 operation table. */
export const S3_OPERATIONS: ReadonlyMap<string, S3Operation> = new Map(
  [
    CreateBucket, HeadBucket, ListBuckets, DeleteBucket, GetBucketLocation,
    PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption,
    PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy,
    PutBucketVersioning, GetBucketVersioning,
    PutObject, PostObject, GetObject, HeadObject, DeleteObject, ListObjects, ListObjectsV2,
    ListObjectVersions, DeleteObjects, CopyObject, GetObjectTagging, GetObjectAttributes,
    CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads,
  ].map((op) => [op.name, op as S3Operation]),
);

export const S3_SIGNING_NAME = 's3';

/**
 * S3's requests are bound to operations by the REST-XML protocol (headers, query, path, body stream), so
 * the codec passes them through; each operation validates what it reads. The audit view of S3 calls is
 * built by src/services/s3/audit-view.ts, not from a model.
 */
export const S3_CODEC: OperationCodec = {
  decodeInput: (_op, raw) => raw as Record<string, unknown>,
  encodeOutput: (_op, output) => output,
  model: { operations: {}, shapes: {} },
};
