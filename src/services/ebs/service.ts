import { Clock } from '../../core/clock.js';
import { AwsError } from '../../core/errors/aws-error.js';
import { EbsErrors, ebsError } from '../../core/errors/ebs.js';
import { authorizeByIdentity } from '../../core/iam/authorize.js';
import { IdentityPolicySource } from '../../core/policy/sources.js';
import { DirectSnapshots } from '../../core/volumes/direct-snapshots.js';
import { KmsClient } from '../kms/kms-client.js';
import { requestConditions } from '../request-conditions.js';
import { ServiceDefinition } from '../service.js';
import { EbsCall, ebsCall } from './call.js';
import { EBS_CODEC, EBS_OPERATIONS, EBS_SIGNING_NAME } from './index.js';

/**
 * The EBS direct APIs (REST-JSON, SigV4 service `ebs`) on the same endpoint. Like EC2 they have no
 * resource-based policies: the root user may do anything in its account, users and role sessions need an
 * identity-based policy allowing ebs:<Action> on the snapshot ARNs (AccessDeniedException, reason
 * UNAUTHORIZED_ACCOUNT, otherwise). KMS is called as the caller (call.ts), so the CMK's key policy and
 * grants decide as well. https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticblockstore.html
 */
export function ebsService(snapshots: DirectSnapshots, kmsClient: KmsClient, identityPolicies: IdentityPolicySource, clock: Clock): ServiceDefinition<EbsCall> & { codec: typeof EBS_CODEC } {
  return {
    signingName: EBS_SIGNING_NAME,
    operations: EBS_OPERATIONS,
    codec: EBS_CODEC,
    internalError: EbsErrors.InternalServerException,
    context: (request) => ebsCall(snapshots, kmsClient, request),
    authorize: async (call, accesses) => {
      const context = requestConditions(EBS_SIGNING_NAME, call.request, clock.now());
      for (const a of accesses) {
        try {
          await authorizeByIdentity(identityPolicies, { principal: call.request.principal, action: a.action, resource: a.resource, context }, EbsErrors.AccessDeniedException);
        } catch (err) {
          if (err instanceof AwsError) throw ebsError('AccessDeniedException', err.message, 'UNAUTHORIZED_ACCOUNT');
          throw err;
        }
      }
    },
  };
}
