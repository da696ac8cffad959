import { QueryErrors } from '../../core/errors/query.js';
import { OperationCodec } from '../../services/service.js';
import { FormCodec } from './form-codec.js';
import { decodeForm } from './form-decoder.js';
import { QueryServiceModel } from './query-model.js';
import { XmlNode, encodeXml } from './xml-encoder.js';

/**
 * The codec of an AWS Query service: form parameters in, an XML element tree out, both by the botocore
 * model. Validation (required members, lengths, ranges, patterns, enums) is the JSON codec's, with the
 * Query wording: `ValidationError`, "1 validation error detected: Value 'x' at 'userName' failed to
 * satisfy constraint: …" as IAM answers it.
 */
export class QueryCodec extends FormCodec implements OperationCodec {
  constructor(model: QueryServiceModel) {
    super(model, QueryErrors.ValidationError);
  }

  /** `raw` is the request's parameters (Action and Version included; they are not members, so ignored). */
  decodeInput(operation: string, raw: unknown): Record<string, unknown> {
    const { op, params } = this.form(operation, raw, QueryErrors.MalformedQueryString);
    if (op.input === null) return {};
    return this.validator.decodeInput(operation, decodeForm(this.model, op.input, params));
  }

  /** `{ <ResultWrapper>: members }`, or `{}` for operations without output. */
  encodeOutput(operation: string, output: Record<string, unknown>): Record<string, XmlNode> {
    const op = this.model.operations[operation]!;
    if (op.output === null || op.resultWrapper === null) return {};
    return { [op.resultWrapper]: encodeXml(this.model, op.output, output) };
  }
}
