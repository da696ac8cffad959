import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { findVersion } from '../object-reads.js';
import { resolveObject } from '../resources.js';
import { xmlDocument } from '../xml.js';

/**
 * GET /{Bucket}/{Key+}?tagging: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html
 * Object tags cannot be set here (a request carrying x-amz-tagging is NotImplemented), so every object's
 * tag set is empty. Clients ask for it on their own: the aws CLI's `s3 cp`/`mv`/`sync` between S3 locations
 * reads the source's tags before a multipart copy.
 */
export const GetObjectTagging = defineOperation<S3Call, S3Input, { bucket: BucketRecord; key: string }, S3Access>({
  name: 'GetObjectTagging',
  action: 's3:GetObjectTagging',
  readOnly: true,
  async resolve(input, call) {
    const action = input.query.has('versionId') ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging';
    return resolveObject(call, input, action);
  },
  async handle(input, call, { bucket, key }) {
    const v = await findVersion(call, bucket, key, input.query.get('versionId'));
    const headers: Record<string, string> = v.versionId !== 'null' || bucket.versioning !== null ? { 'x-amz-version-id': v.versionId } : {};
    return { headers, xml: xmlDocument('Tagging', { TagSet: '' }) };
  },
});
