import { Clock } from '../../core/clock.js';
import { AuditReader } from '../../core/audit/lookup.js';
import { CommonErrors } from '../../core/errors/common.js';
import { authorizeByIdentity } from '../../core/iam/authorize.js';
import { IdentityPolicySource } from '../../core/policy/sources.js';
import { awsConditions } from '../aws-conditions.js';
import { ServiceDefinition } from '../service.js';
import { CloudTrailCall } from './call.js';
import { CLOUDTRAIL_CODEC, CLOUDTRAIL_OPERATIONS, CLOUDTRAIL_SIGNING_NAME } from './index.js';

/**
 * CloudTrail over AWS JSON 1.1. The root user may look up its account's events; IAM users and role
 * sessions need an identity-based policy allowing cloudtrail:LookupEvents (its resource is `*`).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html
 */
export function cloudTrailService(events: AuditReader, identityPolicies: IdentityPolicySource, clock: Clock): ServiceDefinition<CloudTrailCall> {
  return {
    signingName: CLOUDTRAIL_SIGNING_NAME,
    operations: CLOUDTRAIL_OPERATIONS,
    codec: CLOUDTRAIL_CODEC,
    internalError: CommonErrors.InternalFailure,
    context: (request) => ({ events, request }),
    authorize: async (call, accesses) => {
      const context = awsConditions(call.request, clock.now());
      for (const a of accesses) {
        await authorizeByIdentity(identityPolicies, { principal: call.request.principal, action: a.action, resource: a.resource, context }, CommonErrors.AccessDeniedException);
      }
    },
  };
}
