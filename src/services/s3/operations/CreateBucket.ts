import { AwsError, needs } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { bucketArn, checkBucketName } from '../../../core/s3/names.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { parseXmlDocument } from '../xml.js';

/**
 * PUT /{Bucket}: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
 * The bucket lives in the region the request is signed for; a LocationConstraint must name that region
 * (us-east-1 takes none). Names are global: another account's bucket → BucketAlreadyExists; your own →
 * BucketAlreadyOwnedByYou (us-east-1 answers 200, as S3 does for legacy reasons).
 */
export const CreateBucket = defineOperation<S3Call, S3Input, { name: string; constraint: string | undefined }, S3Access>({
  name: 'CreateBucket',
  action: 's3:CreateBucket',
  readOnly: false,
  async resolve(input, call) {
    const name = input.bucket!;
    checkBucketName(name);
    const body = await input.body.bytes(64 * 1024);
    let constraint: string | undefined;
    if (body.length > 0) {
      const doc = parseXmlDocument(body, 'CreateBucketConfiguration');
      const c = doc.LocationConstraint;
      if (c !== undefined && typeof c !== 'string') throw new AwsError(S3Errors.MalformedXML, 'The XML you provided was not well-formed or did not validate against our published schema');
      constraint = c === '' ? undefined : c;
    }
    const region = call.request.region;
    if (constraint === undefined) {
      needs(region === 'us-east-1', S3Errors.IllegalLocationConstraintException, 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.');
    } else {
      needs(constraint !== 'us-east-1', S3Errors.InvalidLocationConstraint, 'The specified location-constraint is not valid');
      needs(constraint === region, S3Errors.IllegalLocationConstraintException, `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`);
    }
    return { access: [{ action: 's3:CreateBucket', resource: bucketArn(name) }], state: { name, constraint } };
  },
  async handle(_input, call, { name }) {
    const { deps, request } = call;
    const created = await deps.store.createBucket({
      name,
      accountId: request.principal.accountId,
      region: request.region,
      createdAt: deps.clock.now(),
      versioning: null,
      encryption: deps.options.blockSseCForNewBuckets ? { algorithm: 'AES256', bucketKeyEnabled: false, blockedTypes: ['SSE-C'] } : null,
      policy: null,
    });
    if (!created) {
      const existing = await deps.store.getBucket(name);
      if (existing?.accountId !== request.principal.accountId) {
        throw new AwsError(S3Errors.BucketAlreadyExists, 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.');
      }
      if (existing.region !== 'us-east-1' || request.region !== 'us-east-1') {
        throw new AwsError(S3Errors.BucketAlreadyOwnedByYou, 'Your previous request to create the named bucket succeeded and you already own it.');
      }
    }
    return { headers: { location: `/${name}` } };
  },
});
