import { AwsError } from '../../core/errors/aws-error.js';
import { Ec2Errors } from '../../core/errors/ec2.js';
import { OperationCodec } from '../../services/service.js';
import { FormCodec } from './form-codec.js';
import { scalar } from './form-decoder.js';
import { QueryServiceModel, QueryShape } from './query-model.js';
import { XmlNode, encodeXml } from './xml-encoder.js';

type Ref = { shape: string; locationName?: string; queryName?: string };

const MAX_LIST_ITEMS = 10_000;

/**
 * The EC2 flavour of AWS Query (protocol "ec2", https://smithy.io/2.0/aws/protocols/aws-ec2-query-protocol.html):
 * - inputs: a member's wire name is its queryName, else its locationName with a capital first letter, else its
 *   name (`TagSpecification.1.Tag.1.Key`, `Filter.1.Value.1`, `VolumeId.1`); lists are always flattened `Name.N`;
 * - answers: `<OpResponse xmlns=…><requestId/>members…</OpResponse>` with no result wrapper, members by their
 *   locationName (camelCase), list items as `<item>`; an operation without output answers `<return>true</return>`;
 * - errors: `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>` (query.ts).
 * Validation is the shared ShapeCodec's, reported as InvalidParameterValue.
 */
export class Ec2Codec extends FormCodec implements OperationCodec {
  readonly flavour = 'ec2' as const;

  constructor(model: QueryServiceModel) {
    super(model, Ec2Errors.InvalidParameterValue);
  }

  decodeInput(operation: string, raw: unknown): Record<string, unknown> {
    const { op, params } = this.form(operation, raw, Ec2Errors.InvalidParameterValue);
    if (op.input === null) return {};
    const prefixes = new Set<string>();
    for (const key of params.keys()) {
      for (let i = key.indexOf('.'); i >= 0; i = key.indexOf('.', i + 1)) prefixes.add(key.slice(0, i));
      prefixes.add(key);
    }
    const input = this.#structure(op.input, '', params, prefixes) ?? {};
    const shape = this.#shape(op.input);
    for (const name of shape.required ?? []) {
      if (input[name] === undefined) throw new AwsError(Ec2Errors.MissingParameter, `The request must contain the parameter ${wireName(name, shape.members![name]!)}`);
    }
    return this.validator.decodeInput(operation, input);
  }

  encodeOutput(operation: string, output: Record<string, unknown>): Record<string, XmlNode> {
    const op = this.model.operations[operation]!;
    if (op.output === null) return { return: 'true' };
    return encodeXml(this.model, op.output, output) as Record<string, XmlNode>;
  }

  #structure(shapeName: string, prefix: string, params: ReadonlyMap<string, string>, prefixes: ReadonlySet<string>): Record<string, unknown> | undefined {
    const shape = this.#shape(shapeName);
    const out: Record<string, unknown> = {};
    let any = false;
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const key = prefix === '' ? wireName(name, ref) : `${prefix}.${wireName(name, ref)}`;
      if (!prefixes.has(key)) continue;
      const v = this.#value(ref.shape, key, params, prefixes);
      if (v !== undefined) {
        out[name] = v;
        any = true;
      }
    }
    return any || prefix === '' ? out : undefined;
  }

  #value(shapeName: string, key: string, params: ReadonlyMap<string, string>, prefixes: ReadonlySet<string>): unknown {
    const shape = this.#shape(shapeName);
    if (shape.type === 'structure') return this.#structure(shapeName, key, params, prefixes);
    if (shape.type === 'list') {
      const items: unknown[] = [];
      for (let i = 1; prefixes.has(`${key}.${i}`); i++) {
        if (i > MAX_LIST_ITEMS) throw new AwsError(Ec2Errors.InvalidParameterValue, `Too many values for ${key}.`);
        items.push(this.#value(shape.member!.shape, `${key}.${i}`, params, prefixes));
      }
      return items.length > 0 ? items : undefined;
    }
    const raw = params.get(key);
    if (raw === undefined) return undefined;
    try {
      return scalar(shape, raw, key, false);
    } catch (err) {
      throw new AwsError(Ec2Errors.InvalidParameterValue, `Invalid value '${raw.slice(0, 64)}' for ${key}`);
    }
  }

  #shape(name: string): QueryShape {
    const shape = this.model.shapes[name];
    if (!shape) throw new Error(`no shape ${name} in the model`);
    return shape;
  }
}

/** botocore's EC2Serializer._get_serialized_name. */
function wireName(name: string, ref: Ref): string {
  if (ref.queryName !== undefined) return ref.queryName;
  if (ref.locationName !== undefined) return ref.locationName.charAt(0).toUpperCase() + ref.locationName.slice(1);
  return name;
}
