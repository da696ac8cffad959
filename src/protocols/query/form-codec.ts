import { AwsError, ErrorSpec } from '../../core/errors/aws-error.js';
import { ServiceModel, ShapeCodec } from '../../services/shapes.js';
import { QueryOperationModel, QueryServiceModel } from './query-model.js';

/**
 * What the AWS Query codec and its EC2 flavour share: the botocore model, its XML namespace and API version,
 * validation by the shared ShapeCodec reported as the flavour's error, and the model's entry for an operation
 * whose request parameters are a form.
 */
export abstract class FormCodec {
  protected readonly validator: ShapeCodec;

  constructor(
    readonly model: QueryServiceModel,
    validation: ErrorSpec,
  ) {
    // Operations without input never reach the validator (decodeInput answers {} for them).
    this.validator = new ShapeCodec(model as unknown as ServiceModel<unknown>, { validation, serialization: validation });
  }

  get namespace(): string {
    return this.model.metadata.xmlNamespace;
  }

  get apiVersion(): string {
    return this.model.metadata.apiVersion;
  }

  /** The operation's model entry and the request's parameters; `malformed` if `raw` is not a parameter map. */
  protected form(operation: string, raw: unknown, malformed: ErrorSpec): { op: QueryOperationModel; params: ReadonlyMap<string, string> } {
    const op = this.model.operations[operation];
    if (!op) throw new Error(`no operation ${operation} in the model`);
    if (!(raw instanceof Map)) throw new AwsError(malformed, 'The request parameters are malformed.');
    return { op, params: raw as ReadonlyMap<string, string> };
  }
}
