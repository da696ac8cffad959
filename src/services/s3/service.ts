import { S3Errors } from '../../core/errors/s3.js';
import { requestConditions } from '../request-conditions.js';
import { KmsClient } from '../kms/kms-client.js';
import { RequestContext } from '../operation.js';
import { ServiceDefinition } from '../service.js';
import { S3AccessControl } from './access.js';
import { S3Access, S3Call, S3Deps } from './call.js';
import { S3_CODEC, S3_OPERATIONS, S3_SIGNING_NAME } from './index.js';
import { kmsForS3 } from './kms-bridge.js';
import { s3AuditDetails } from './audit-view.js';

/**
 * S3 over REST-XML. Every operation resolves the bucket (and object) it touches, is authorized by the
 * bucket policy + IAM (S3AccessControl), and calls KMS as the requester through kmsForS3.
 */
export function s3Service(deps: S3Deps, kmsClient: KmsClient, access: S3AccessControl): ServiceDefinition<S3Call, S3Access> {
  const decide = async (request: RequestContext, accesses: readonly S3Access[]): Promise<void> => {
    const base = requestConditions(S3_SIGNING_NAME, request, deps.clock.now());
    for (const a of accesses) {
      await access.authorize({
        principal: request.principal,
        action: a.action,
        resource: a.resource,
        bucket: a.bucket,
        conditions: { ...base, ...a.conditions },
      });
    }
  };
  return {
    signingName: S3_SIGNING_NAME,
    operations: S3_OPERATIONS,
    codec: S3_CODEC,
    internalError: S3Errors.InternalError,
    context: (request) => ({ deps, request, kmsFor: (bucket) => kmsForS3(kmsClient, request, bucket.region), authorize: (a) => decide(request, [a]) }),
    authorize: (call, accesses) => decide(call.request, accesses),
    auditDetails: s3AuditDetails,
  };
}
