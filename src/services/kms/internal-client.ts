import { AwsError } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';
import { RequestContext } from '../operation.js';
import { ServiceDefinition, dispatch } from '../service.js';
import { KmsAccess, KmsCall } from './call.js';

/**
 * How another service (S3 first) calls KMS on a user's behalf: the same dispatch path as a wire request —
 * validation, key policy / IAM / grant authorization and (later) audit — with the caller's principal and
 * `kms:ViaService` set to the calling service's endpoint, e.g. `s3.us-east-1.amazonaws.com`.
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
 * Input and output are in wire form (blobs base64), so nothing can reach an operation unvalidated.
 */
export class KmsInternalClient {
  constructor(private readonly service: ServiceDefinition<KmsCall, KmsAccess>) {}

  async call(operation: string, input: Record<string, unknown>, onBehalfOf: RequestContext, viaService: string): Promise<Record<string, unknown>> {
    const op = this.service.operations.get(operation);
    if (!op) throw new AwsError(CommonErrors.UnknownOperationException, `No KMS operation ${operation}`);
    return (await dispatch(this.service, op, input, { ...onBehalfOf, viaService })) as Record<string, unknown>;
  }
}
