import { AwsError } from '../../core/errors/aws-error.js';
import { QueryErrors } from '../../core/errors/query.js';
import { SECRET_MEMBERS, isSecretShape } from '../../services/secret-members.js';
import { QueryServiceModel, QueryShape } from './query-model.js';

/**
 * Turns the flat parameters of an AWS Query request into the nested value its input shape describes,
 * the way botocore's QuerySerializer flattened it:
 * - structure members are `Prefix.Member` (the member's locationName when it has one);
 * - lists are `Prefix.member.N` (N from 1; `Prefix.N` when flattened); an empty list is `Prefix=`;
 * - maps are `Prefix.entry.N.key` / `Prefix.entry.N.value`;
 * - integers are decimal, booleans `true`/`false`, timestamps ISO 8601, blobs base64.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#query-key-resolution
 * The result is what the JSON codec validates (timestamps become epoch seconds, as in AWS JSON), so one
 * validator serves both protocols. Parameters the shape does not name are ignored.
 */
const MAX_LIST_ITEMS = 10_000;

export function decodeForm(model: QueryServiceModel, shapeName: string, params: ReadonlyMap<string, string>): Record<string, unknown> {
  // Every dotted prefix of every parameter name, so "is there anything under X?" is one lookup.
  const prefixes = new Set<string>();
  for (const key of params.keys()) {
    for (let i = key.indexOf('.'); i >= 0; i = key.indexOf('.', i + 1)) prefixes.add(key.slice(0, i));
    prefixes.add(key);
  }
  const out = new Decoder(model, params, prefixes).structure(shapeName, '');
  return out ?? {};
}

class Decoder {
  constructor(
    private readonly model: QueryServiceModel,
    private readonly params: ReadonlyMap<string, string>,
    private readonly prefixes: ReadonlySet<string>,
  ) {}

  /** `secret`: inside a secret member (secret-members.ts), whose values messages never echo. */
  structure(shapeName: string, prefix: string, secret = false): Record<string, unknown> | undefined {
    const shape = this.#shape(shapeName);
    const out: Record<string, unknown> = {};
    let any = false;
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const key = join(prefix, ref.locationName ?? name);
      if (!this.prefixes.has(key)) continue;
      const v = this.value(ref.shape, key, secret || SECRET_MEMBERS.has(name));
      if (v !== undefined) {
        out[name] = v;
        any = true;
      }
    }
    return any || prefix === '' ? out : undefined;
  }

  value(shapeName: string, key: string, secret = false): unknown {
    const shape = this.#shape(shapeName);
    const hidden = secret || isSecretShape(shape);
    switch (shape.type) {
      case 'structure':
        return this.structure(shapeName, key, hidden);
      case 'list':
        return this.#list(shape, key, hidden);
      case 'map':
        return this.#map(shape, key, hidden);
      default: {
        const raw = this.params.get(key);
        return raw === undefined ? undefined : scalar(shape, raw, key, hidden);
      }
    }
  }

  #list(shape: QueryShape, key: string, secret: boolean): unknown[] | undefined {
    if (this.params.get(key) === '') return [];
    const base = shape.flattened ? key : join(key, shape.member!.locationName ?? 'member');
    const items: unknown[] = [];
    for (let i = 1; this.prefixes.has(`${base}.${i}`); i++) {
      if (i > MAX_LIST_ITEMS) throw new AwsError(QueryErrors.ValidationError, `Too many list members at '${lowerFirst(key)}'.`);
      items.push(this.value(shape.member!.shape, `${base}.${i}`, secret));
    }
    return items.length > 0 ? items : undefined;
  }

  #map(shape: QueryShape, key: string, secret: boolean): Record<string, unknown> | undefined {
    const base = shape.flattened ? key : join(key, 'entry');
    const keyName = shape.key!.locationName ?? 'key';
    const valueName = shape.value!.locationName ?? 'value';
    // A null-prototype object: a key named "__proto__" is data like any other.
    const out = Object.create(null) as Record<string, unknown>;
    let any = false;
    for (let i = 1; this.prefixes.has(`${base}.${i}`); i++) {
      if (i > MAX_LIST_ITEMS) throw new AwsError(QueryErrors.ValidationError, `Too many map entries at '${lowerFirst(key)}'.`);
      const k = this.params.get(`${base}.${i}.${keyName}`);
      if (k === undefined) continue;
      out[k] = this.value(shape.value!.shape, `${base}.${i}.${valueName}`, secret);
      any = true;
    }
    return any ? out : undefined;
  }

  #shape(name: string): QueryShape {
    const shape = this.model.shapes[name];
    if (!shape) throw new Error(`no shape ${name} in the model`);
    return shape;
  }
}

export function scalar(shape: QueryShape, raw: string, key: string, secret: boolean): unknown {
  const bad = (what: string) =>
    new AwsError(
      QueryErrors.ValidationError,
      `1 validation error detected: Value ${secret ? '' : `'${raw.slice(0, 64)}' `}at '${lowerFirst(key)}' failed to satisfy constraint: Member must be ${what}`,
    );
  switch (shape.type) {
    case 'integer':
    case 'long':
      if (!/^-?\d{1,15}$/.test(raw)) throw bad('an integer');
      return Number(raw);
    case 'double':
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw bad('a number');
      return n;
    }
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw bad('a boolean (true or false)');
      return raw === 'true';
    case 'timestamp': {
      const t = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
      if (!Number.isFinite(t)) throw bad('an ISO 8601 timestamp');
      return t / 1000;
    }
    default:
      // string and blob (base64, checked by the validator) travel as text.
      return raw;
  }
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/** AWS names members in messages with a lower-case first letter ('userName'). */
function lowerFirst(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}
