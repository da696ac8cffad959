import { needs } from '../../core/errors/aws-error.js';
import { KmsErrors } from '../../core/errors/kms.js';
import { Kms } from '../../core/kms/kms.js';
import { Authorizer } from '../../core/policy/authorizer.js';
import { ServiceDefinition } from '../service.js';
import { KmsCall } from './call.js';
import { KMS_CODEC, KMS_OPERATIONS, KMS_SIGNING_NAME } from './index.js';

export function kmsService(kms: Kms): ServiceDefinition<KmsCall> {
  const authorizer = new Authorizer();
  return {
    signingName: KMS_SIGNING_NAME,
    operations: KMS_OPERATIONS,
    codec: KMS_CODEC,
    internalError: KmsErrors.KMSInternalException,
    authorize: async (call, access) => {
      for (const a of access) authorizer.authorize({ principal: call.request.principal, ...a });
    },
    context: (request) => ({ kms, request, scope: { accountId: request.principal.accountId, region: request.region } }),
    beforeHandle: (input) => {
      // https://docs.aws.amazon.com/kms/latest/developerguide/testing-permissions.html
      needs(input.DryRun !== true, KmsErrors.DryRunOperationException, 'The request would have succeeded, but the DryRun option is set.');
    },
  };
}
