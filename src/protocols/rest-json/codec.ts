import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { ErrorSpec } from '../../core/errors/aws-error.js';
import { AuditModel } from '../../services/audit.js';
import { OperationCodec } from '../../services/service.js';
import { Shape, ShapeCodec } from '../../services/shapes.js';

/** A member's REST binding in the model: the URI label, the query string, a header, or the JSON body. */
export interface RestMemberRef {
  readonly shape: string;
  readonly location?: 'uri' | 'querystring' | 'header';
  readonly locationName?: string;
  readonly idempotencyToken?: boolean;
}

export interface RestShape extends Shape {
  readonly members?: Record<string, RestMemberRef>;
  /** The member that is the whole HTTP body (a streaming blob). */
  readonly payload?: string;
}

export interface RestJsonModel {
  readonly metadata: { readonly apiVersion: string; readonly protocol: string; readonly signingName: string };
  readonly operations: Record<string, {
    readonly http: { readonly method: string; readonly requestUri: string; readonly responseCode?: number };
    readonly input: string;
    readonly output: string | null;
    readonly errors: string[];
    readonly unsignedPayload?: boolean;
  }>;
  readonly shapes: Record<string, RestShape>;
}

/** An answer as REST-JSON sends it: the status, the header members, and either a JSON document or the raw payload. */
export interface RestReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly json?: string;
  readonly payload?: Buffer;
}

/**
 * A REST-JSON service's codec (the EBS direct APIs'). The protocol (protocols/rest-json) has already taken each member from where
 * the model binds it and given it its type (numbers, booleans, the payload as SecretBytes), so the input is
 * checked in the decoded form against the model's constraints (ShapeCodec.checkInput: required members,
 * ranges, enums, patterns), with EBS's ValidationException. The output is split back by the same bindings.
 */
export class RestJsonCodec implements OperationCodec {
  readonly #shapes: ShapeCodec;
  readonly model: AuditModel;

  constructor(readonly rest: RestJsonModel, validation: ErrorSpec) {
    this.#shapes = new ShapeCodec(rest as never, { validation, serialization: validation });
    this.model = rest as unknown as AuditModel;
  }

  decodeInput(operation: string, raw: unknown): Record<string, unknown> {
    return this.#shapes.checkInput(operation, raw as Record<string, unknown>);
  }

  checkInput(operation: string, input: Record<string, unknown>): Record<string, unknown> {
    return this.#shapes.checkInput(operation, input);
  }

  encodeOutput(operation: string, output: Record<string, unknown>): RestReply {
    const op = this.rest.operations[operation]!;
    const shape = op.output ? this.rest.shapes[op.output]! : undefined;
    const headers: Record<string, string> = {};
    const body: Record<string, unknown> = {};
    let payload: Buffer | undefined;
    for (const [name, value] of Object.entries(output)) {
      if (value === undefined || value === null) continue;
      const ref = shape?.members?.[name];
      if (!ref) throw new Error(`${operation}: ${name} is not a member of its output`);
      if (shape!.payload === name) payload = value instanceof SecretBytes ? Buffer.from(value.reveal()) : (value as Buffer);
      else if (ref.location === 'header') headers[ref.locationName!] = String(value);
      else body[name] = value;
    }
    const status = op.http.responseCode ?? 200;
    if (payload) return { status, headers, payload };
    const json = JSON.stringify(Object.keys(body).length > 0 ? this.#shapes.encodeOutput(operation, body) : {});
    return { status, headers, json };
  }
}
