import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { deleteObject } from '../object-deletes.js';
import { resolveObject } from '../resources.js';

/** DELETE /{Bucket}/{Key+}: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html */
export const DeleteObject = defineOperation<S3Call, S3Input, { bucket: BucketRecord; key: string }, S3Access>({
  name: 'DeleteObject',
  action: 's3:DeleteObject',
  readOnly: false,
  async resolve(input, call) {
    const action = input.query.has('versionId') ? 's3:DeleteObjectVersion' : 's3:DeleteObject';
    return resolveObject(call, input, action);
  },
  async handle(input, call, { bucket, key }) {
    const out = await deleteObject(call, bucket, key, input.query.get('versionId') ?? undefined);
    return {
      status: 204,
      headers: {
        ...(out.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}),
        ...(out.versionId !== undefined ? { 'x-amz-version-id': out.versionId } : {}),
      },
    };
  },
});
