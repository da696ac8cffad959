import { Clock } from '../../core/clock.js';
import { AwsError } from '../../core/errors/aws-error.js';
import { QueryErrors } from '../../core/errors/query.js';
import { ASSUME_ROLE_ACTION, mayAssumeRole } from '../../core/iam/assume-role.js';
import { authorizeByIdentity } from '../../core/iam/authorize.js';
import { Iam } from '../../core/iam/iam.js';
import { SessionIssuer } from '../../core/identity/sessions.js';
import { ContextValue } from '../../core/policy/index.js';
import { requestConditions } from '../request-conditions.js';
import { ServiceDefinition } from '../service.js';
import { StsAccess, StsCall } from './call.js';
import { STS_CODEC, STS_OPERATIONS, STS_SIGNING_NAME } from './index.js';

/**
 * STS as the Query protocol serves it. GetCallerIdentity and GetSessionToken need no permission;
 * sts:AssumeRole is decided by the role's trust policy and the caller's identity-based policies.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_assumerole.html
 */
export function stsService(iam: Iam, sessions: SessionIssuer, clock: Clock): ServiceDefinition<StsCall, StsAccess> & { codec: typeof STS_CODEC } {
  return {
    signingName: STS_SIGNING_NAME,
    operations: STS_OPERATIONS,
    codec: STS_CODEC,
    internalError: QueryErrors.InternalFailure,
    context: (request) => ({ iam, sessions, request }),
    authorize: async (call, accesses, input) => {
      const principal = call.request.principal;
      const context: Record<string, ContextValue> = {
        ...requestConditions(STS_SIGNING_NAME, call.request, clock.now()),
        ...(typeof input.ExternalId === 'string' ? { 'sts:ExternalId': input.ExternalId } : {}),
        ...(typeof input.RoleSessionName === 'string' ? { 'sts:RoleSessionName': input.RoleSessionName } : {}),
        ...(typeof input.SourceIdentity === 'string' ? { 'sts:SourceIdentity': input.SourceIdentity } : {}),
      };
      for (const a of accesses) {
        if (a.action !== ASSUME_ROLE_ACTION || !a.role) {
          await authorizeByIdentity(iam.identityPolicies, { principal, action: a.action, resource: a.resource, context }, QueryErrors.AccessDenied);
          continue;
        }
        // "Roles may not be assumed by root accounts." — AWS's own words for a root caller.
        if (principal.type === 'Root') throw new AwsError(QueryErrors.AccessDenied, 'Roles may not be assumed by root accounts.');
        const role = a.role.record;
        const allowed =
          role !== undefined &&
          mayAssumeRole({
            caller: principal,
            roleArn: role.arn,
            roleAccountId: role.accountId,
            trustPolicy: iam.deps.policies.get(role.assumeRolePolicy, 'trust'),
            identityPolicies: await iam.identityPolicies.policiesFor(principal),
            context,
          });
        if (!allowed) throw new AwsError(QueryErrors.AccessDenied, `User: ${principal.arn} is not authorized to perform: ${ASSUME_ROLE_ACTION} on resource: ${a.resource}`);
      }
    },
  };
}
