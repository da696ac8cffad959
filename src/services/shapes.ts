import { SecretBytes } from '../core/crypto/secret-bytes.js';
import { AwsError, ErrorSpec } from '../core/errors/aws-error.js';
import { CommonErrors } from '../core/errors/common.js';
import { SECRET_MEMBERS, isSecretShape } from './secret-members.js';

/**
 * Input validation and output serialization driven by a botocore service model (JSON protocols).
 * The model is the specification: member names, types, required members, enums, lengths, ranges and
 * patterns are checked exactly as it states, with AWS's ValidationException wording. Secret values —
 * `sensitive` shapes, blobs and the members of secret-members.ts, and whatever they contain — are never
 * echoed in messages ("Value at 'tokenCode' failed to satisfy constraint: …"). Compiled once per model.
 */
export interface ShapeRef {
  shape: string;
}
export interface Shape {
  type: 'structure' | 'list' | 'map' | 'string' | 'blob' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'double' | 'float';
  members?: Record<string, ShapeRef & { deprecated?: boolean }>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  sensitive?: boolean;
  exception?: boolean;
}
export interface ServiceModel<M = { apiVersion: string; targetPrefix: string; jsonVersion: string }> {
  metadata: M;
  operations: Record<string, { input: string; output: string | null; errors: string[] }>;
  shapes: Record<string, Shape>;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_ERRORS_SHOWN = 10;

/** The errors a codec reports: AWS JSON says ValidationException/SerializationException, Query says ValidationError. */
export interface CodecErrors {
  readonly validation: ErrorSpec;
  readonly serialization: ErrorSpec;
}

const JSON_ERRORS: CodecErrors = { validation: CommonErrors.ValidationException, serialization: CommonErrors.SerializationException };

/**
 * Constraints a service adds to shapes of its model, by shape name, beyond what the model states (KMS: the
 * size of an EncryptionContextType map wherever it appears). Given the decoded value, answers the
 * constraint it fails ("Member must have …"), or undefined. Never given the value to echo.
 */
export type ShapeConstraints = Readonly<Record<string, (value: unknown) => string | undefined>>;

export class ShapeCodec {
  readonly #patterns = new Map<string, RegExp>();

  constructor(
    readonly model: ServiceModel<unknown>,
    private readonly errors: CodecErrors = JSON_ERRORS,
    private readonly constraints: ShapeConstraints = {},
  ) {
    for (const [name, shape] of Object.entries(model.shapes)) {
      // botocore patterns are Java regexes; the ones in the KMS model are valid JS with the u flag.
      if (shape.pattern) this.#patterns.set(name, new RegExp(`^(?:${shape.pattern})$`, 'u'));
    }
  }

  /**
   * Checks a parsed JSON body against the operation's input shape and returns the typed input:
   * blobs become Buffers (SecretBytes for sensitive blobs), timestamps Dates.
   */
  decodeInput(operation: string, body: unknown): Record<string, unknown> {
    return this.#check(operation, body, false);
  }

  /**
   * The typed entry's check (an in-process caller, e.g. S3 calling KMS): `input` is already in the decoded
   * form decodeInput returns — Buffers for blobs (SecretBytes for sensitive ones), Dates for timestamps — and
   * is checked against the very constraints decodeInput applies (required members, lengths, enums, patterns,
   * the service's own constraints), with the same errors. Nothing is base64-encoded or parsed on the way.
   */
  checkInput(operation: string, input: Record<string, unknown>): Record<string, unknown> {
    return this.#check(operation, input, true);
  }

  #check(operation: string, body: unknown, typed: boolean): Record<string, unknown> {
    const op = this.model.operations[operation];
    if (!op) throw new Error(`no operation ${operation} in the model`);
    const errors: string[] = [];
    const value = this.#decode(op.input, body ?? {}, '', errors, false, typed);
    if (errors.length > 0) {
      const shown = errors.slice(0, MAX_ERRORS_SHOWN);
      throw new AwsError(
        this.errors.validation,
        `${errors.length} validation error${errors.length > 1 ? 's' : ''} detected: ${shown.join('; ')}`,
      );
    }
    return value as Record<string, unknown>;
  }

  /** `secret`: the value is, or is inside, a secret member (never echoed). `typed`: already decoded (checkInput). */
  #decode(shapeName: string, v: unknown, path: string, errors: string[], secret: boolean, typed: boolean): unknown {
    const decoded = this.#decodeShape(shapeName, v, path, errors, secret || isSecretShape(this.model.shapes[shapeName]), typed);
    const failed = this.constraints[shapeName]?.(decoded);
    if (failed !== undefined) errors.push(`Value at '${path}' failed to satisfy constraint: ${failed}`);
    return decoded;
  }

  #decodeShape(shapeName: string, v: unknown, path: string, errors: string[], secret: boolean, typed: boolean): unknown {
    const shape = this.model.shapes[shapeName]!;
    const at = path === '' ? '' : ` at '${path}'`;
    // Only scalar values that are not secret are echoed (never a blob, a secret, or a structure: String() of
    // a deeply nested array would recurse without bound).
    const show = (x: unknown) =>
      secret || (typeof x !== 'string' && typeof x !== 'number') ? `Value${at}` : `Value '${String(x).slice(0, 256)}'${at}`;
    const mismatch = () =>
      new AwsError(this.errors.serialization, `Unexpected value type${at}: expected ${shape.type}`);
    switch (shape.type) {
      case 'structure': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw mismatch();
        const obj = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const name of shape.required ?? []) {
          if (obj[name] === undefined || obj[name] === null) errors.push(`Value null at '${join(path, name)}' failed to satisfy constraint: Member must not be null`);
        }
        for (const [name, ref] of Object.entries(shape.members ?? {})) {
          const mv = obj[name];
          if (mv === undefined || mv === null) continue;
          out[name] = this.#decode(ref.shape, mv, join(path, name), errors, secret || SECRET_MEMBERS.has(name), typed);
        }
        return out;
      }
      case 'list': {
        if (!Array.isArray(v)) throw mismatch();
        this.#length(shape, v.length, show(v), errors, 'length');
        return v.map((item, i) => this.#decode(shape.member!.shape, item, `${path}.${i + 1}.member`, errors, secret, typed));
      }
      case 'map': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw mismatch();
        // A null-prototype object: a key named "__proto__" is data like any other (an encryption context
        // {"__proto__": "x"} must be bound, not silently dropped into the prototype).
        const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        for (const [k, mv] of Object.entries(v as Record<string, unknown>)) {
          this.#decode(shape.key!.shape, k, `${path}.key`, errors, secret, typed);
          out[k] = this.#decode(shape.value!.shape, mv, `${path}.${secret ? '(key)' : k}.value`, errors, secret, typed);
        }
        return out;
      }
      case 'string': {
        if (typeof v !== 'string') throw mismatch();
        this.#length(shape, v.length, show(v), errors, 'length');
        if (shape.enum && !shape.enum.includes(v)) {
          errors.push(`${show(v)} failed to satisfy constraint: Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
        }
        const re = this.#patterns.get(shapeName);
        if (re && !re.test(v)) {
          errors.push(`${show(v)} failed to satisfy constraint: Member must satisfy regular expression pattern: ${shape.pattern}`);
        }
        return v;
      }
      case 'blob': {
        if (typed) {
          // Decoded form: a sensitive blob only as SecretBytes (its holder wipes it), any other as a Buffer.
          if (shape.sensitive ? !(v instanceof SecretBytes) : !Buffer.isBuffer(v)) throw mismatch();
          this.#length(shape, (v as Buffer | SecretBytes).length, show(v), errors, 'length');
          return v;
        }
        if (typeof v !== 'string' || !BASE64.test(v)) {
          throw new AwsError(this.errors.serialization, `Value${at} is not valid base64`);
        }
        const bytes = Buffer.from(v, 'base64');
        this.#length(shape, bytes.length, show(v), errors, 'length');
        return shape.sensitive ? SecretBytes.adopt(bytes) : bytes;
      }
      case 'integer':
      case 'long': {
        if (typeof v !== 'number' || !Number.isInteger(v)) throw mismatch();
        this.#length(shape, v, show(v), errors, 'value');
        return v;
      }
      case 'double':
      case 'float':
        if (typeof v !== 'number') throw mismatch();
        return v;
      case 'boolean':
        if (typeof v !== 'boolean') throw mismatch();
        return v;
      case 'timestamp':
        if (typed) {
          if (!(v instanceof Date) || Number.isNaN(v.getTime())) throw mismatch();
          return v;
        }
        // Epoch seconds; one that is no Date (beyond ±8.64e12 s, e.g. 1e308) is malformed input, not a NaN date
        // for an operation to trip over.
        if (typeof v !== 'number' || Number.isNaN(new Date(v * 1000).getTime())) throw mismatch();
        return new Date(v * 1000);
    }
  }

  #length(shape: Shape, n: number, shown: string, errors: string[], what: 'length' | 'value'): void {
    if (shape.min !== undefined && n < shape.min) {
      errors.push(`${shown} failed to satisfy constraint: Member must have ${what} greater than or equal to ${shape.min}`);
    }
    if (shape.max !== undefined && n > shape.max) {
      errors.push(`${shown} failed to satisfy constraint: Member must have ${what} less than or equal to ${shape.max}`);
    }
  }

  /**
   * Serializes a handler's output by the operation's output shape: Buffers and SecretBytes as base64,
   * Dates as epoch seconds; absent members omitted. A member the model does not have is a bug (throws).
   */
  encodeOutput(operation: string, output: Record<string, unknown>): Record<string, unknown> {
    const op = this.model.operations[operation]!;
    return op.output ? (this.#encode(op.output, output, operation) as Record<string, unknown>) : {};
  }

  #encode(shapeName: string, v: unknown, path: string): unknown {
    const shape = this.model.shapes[shapeName]!;
    switch (shape.type) {
      case 'structure': {
        const out: Record<string, unknown> = {};
        for (const [name, mv] of Object.entries(v as Record<string, unknown>)) {
          if (mv === undefined || mv === null) continue;
          const ref = shape.members?.[name];
          if (!ref) throw new Error(`${path}.${name} is not a member of ${shapeName}`);
          out[name] = this.#encode(ref.shape, mv, `${path}.${name}`);
        }
        return out;
      }
      case 'list':
        return (v as unknown[]).map((item, i) => this.#encode(shape.member!.shape, item, `${path}[${i}]`));
      case 'map':
        return Object.fromEntries(
          Object.entries(v as Record<string, unknown>).map(([k, mv]) => [k, this.#encode(shape.value!.shape, mv, `${path}.${k}`)]),
        );
      case 'blob':
        return (v instanceof SecretBytes ? v.reveal() : (v as Buffer)).toString('base64');
      case 'timestamp':
        return (v as Date).getTime() / 1000;
      default:
        return v;
    }
  }
}

function join(path: string, member: string): string {
  const name = member.charAt(0).toLowerCase() + member.slice(1);
  return path === '' ? name : `${path}.${name}`;
}
