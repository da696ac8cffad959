import { Clock } from '../../core/clock.js';
import { IamErrors } from '../../core/errors/iam.js';
import { QueryErrors } from '../../core/errors/query.js';
import { authorizeByIdentity } from '../../core/iam/authorize.js';
import { Iam } from '../../core/iam/iam.js';
import { requestConditions } from '../request-conditions.js';
import { ServiceDefinition } from '../service.js';
import { IamCall } from './call.js';
import { IAM_CODEC, IAM_OPERATIONS, IAM_SIGNING_NAME } from './index.js';

/**
 * IAM as the Query protocol serves it. Every operation acts in the caller's account; the root user may do
 * anything there, users and role sessions need an identity-based policy allowing `iam:<Action>` on the
 * resource (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
 */
export function iamService(iam: Iam, clock: Clock): ServiceDefinition<IamCall> & { codec: typeof IAM_CODEC } {
  return {
    signingName: IAM_SIGNING_NAME,
    operations: IAM_OPERATIONS,
    codec: IAM_CODEC,
    internalError: IamErrors.ServiceFailure,
    context: (request) => ({ iam, request, accountId: request.principal.accountId }),
    authorize: async (call, accesses) => {
      const context = requestConditions(IAM_SIGNING_NAME, call.request, clock.now());
      for (const a of accesses) {
        await authorizeByIdentity(iam.identityPolicies, { principal: call.request.principal, action: a.action, resource: a.resource, context }, QueryErrors.AccessDenied);
      }
    },
  };
}
