import { AwsError } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';
import { KmsAccessControl } from '../../core/kms/access-control.js';
import { Kms } from '../../core/kms/kms.js';
import { IamCall } from '../iam/call.js';
import { KmsAccess, KmsCall } from '../kms/call.js';
import { ServiceDefinition } from '../service.js';
import { ShapeCodec } from '../shapes.js';
import { EXPLAIN_MODEL } from './model.js';
import { Explain, ExplainCall } from './operation.js';

const CODEC = new ShapeCodec(EXPLAIN_MODEL);

/**
 * POST /_strongroom/explain as a service of its own, so that it takes the path every call takes
 * (services/service.ts#dispatch: validate → resolve → authorize → handle → audit record). Signed for `kms`, it is
 * recorded as eventSource kms.amazonaws.com, eventName Explain. Its rights are decided by KMS's and IAM's own
 * authorizers — kms:GetKeyPolicy exactly as GetKeyPolicy is decided (key policy, IAM policies, grants), and
 * iam:SimulatePrincipalPolicy as IAM decides it — and a refusal is KMS's AccessDeniedException with AWS's text.
 */
export function explainService(deps: {
  readonly kms: Kms;
  readonly access: KmsAccessControl;
  readonly kmsService: ServiceDefinition<KmsCall, KmsAccess>;
  readonly iamService: ServiceDefinition<IamCall>;
}): ServiceDefinition<ExplainCall, KmsAccess> {
  return {
    signingName: deps.kmsService.signingName,
    operations: new Map([[Explain.name, Explain]]),
    codec: {
      decodeInput: (operation, raw) => CODEC.decodeInput(operation, raw),
      // The explanation is Strongroom's own JSON, not an AWS shape.
      encodeOutput: (_operation, output) => output,
      model: EXPLAIN_MODEL,
    },
    internalError: CommonErrors.InternalFailure,
    context: (request) => ({ request, kms: deps.kms, access: deps.access, now: () => deps.kms.deps.clock.now() }),
    authorize: async (call, accesses) => {
      for (const a of accesses) {
        if (a.action.startsWith('iam:')) {
          await deps.iamService.authorize(deps.iamService.context(call.request), [a], {}).catch((err: unknown) => {
            // IAM's Query-protocol AccessDenied, answered here as the JSON route's AccessDeniedException.
            throw err instanceof AwsError && err.code === 'AccessDenied' ? new AwsError(CommonErrors.AccessDeniedException, err.message) : err;
          });
        } else {
          await deps.kmsService.authorize(deps.kmsService.context(call.request), [a], {});
        }
      }
    },
  };
}
