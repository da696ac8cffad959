import { Clock } from '../../core/clock.js';
import { AwsError } from '../../core/errors/aws-error.js';
import { Ec2Errors } from '../../core/errors/ec2.js';
import { authorizeByIdentity } from '../../core/iam/authorize.js';
import { IdentityPolicySource } from '../../core/policy/sources.js';
import { Volumes } from '../../core/volumes/volumes.js';
import { KmsClient } from '../kms/kms-client.js';
import { requestConditions } from '../request-conditions.js';
import { ServiceDefinition } from '../service.js';
import { Ec2Call, ec2Call } from './call.js';
import { EC2_CODEC, EC2_OPERATIONS, EC2_SIGNING_NAME } from './index.js';

/**
 * EC2 (the EBS volume subset) as the Query protocol's EC2 flavour serves it. EC2 has no resource-based
 * policies: the root user may do anything in its account, users and role sessions need an identity-based
 * policy allowing ec2:<Action> on the volume/snapshot/instance ARNs (UnauthorizedOperation, 403, otherwise).
 * KMS is called as the caller via EC2 (kms-bridge.ts), so the CMK's key policy and grants decide as well.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
 */
export function ec2Service(volumes: Volumes, kmsClient: KmsClient, identityPolicies: IdentityPolicySource, clock: Clock): ServiceDefinition<Ec2Call> & { codec: typeof EC2_CODEC } {
  return {
    signingName: EC2_SIGNING_NAME,
    operations: EC2_OPERATIONS,
    codec: EC2_CODEC,
    internalError: Ec2Errors.InternalError,
    context: (request) => ec2Call(volumes, kmsClient, request),
    authorize: async (call, accesses) => {
      const context = requestConditions(EC2_SIGNING_NAME, call.request, clock.now());
      for (const a of accesses) {
        try {
          await authorizeByIdentity(identityPolicies, { principal: call.request.principal, action: a.action, resource: a.resource, context }, Ec2Errors.UnauthorizedOperation);
        } catch (err) {
          if (err instanceof AwsError) throw new AwsError(Ec2Errors.UnauthorizedOperation, `You are not authorized to perform this operation. ${err.message}`);
          throw err;
        }
      }
    },
    // DryRun: authorized, not done (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html).
    beforeHandle: (input) => {
      if (input.DryRun === true) throw new AwsError(Ec2Errors.DryRunOperation, 'Request would have succeeded, but DryRun flag is set.');
    },
  };
}
