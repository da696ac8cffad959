import { OPERATORS } from './condition-operators.js';
import { PolicyError, quote } from './policy-error.js';
import { VariableScope } from './variables.js';

/**
 * The Condition element: operator → key → value(s). Values of one key are OR'ed; keys and operators are
 * AND'ed. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
 *
 * A key absent from the request makes a condition false, except that a negated operator (StringNotEquals,
 * ArnNotLike, NotIpAddress, …) is then true, an `…IfExists` operator is then true, and Null asks exactly
 * that question. With `ForAllValues:` an absent or empty set is true; with `ForAnyValue:` it is false
 * (and `IfExists` changes neither).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */
export interface CompiledCondition {
  /** As written, e.g. "ForAnyValue:StringLike", for explanations. */
  readonly operator: string;
  readonly key: string;
  readonly cost: number;
  test(scope: VariableScope): boolean;
}

type SetOperator = 'ForAnyValue' | 'ForAllValues';
const OPERATOR = /^(?:(ForAnyValue|ForAllValues):)?(.+?)(IfExists)?$/;

export function compileConditions(block: unknown, path: string, variablesEnabled: boolean): CompiledCondition[] {
  if (!isObject(block)) throw new PolicyError(path, 'must be an object of condition operators');
  const out: CompiledCondition[] = [];
  for (const [operator, keys] of Object.entries(block)) {
    const opPath = `${path}.${operator}`;
    if (!isObject(keys) || Object.keys(keys).length === 0) throw new PolicyError(opPath, 'must be an object of condition keys');
    for (const [key, raw] of Object.entries(keys)) {
      const keyPath = `${opPath}[${JSON.stringify(key)}]`;
      out.push(compileOne(operator, key, conditionValues(raw, keyPath), keyPath, variablesEnabled));
    }
  }
  return out.sort((a, b) => a.cost - b.cost);
}

function compileOne(operator: string, key: string, values: readonly string[], path: string, variablesEnabled: boolean): CompiledCondition {
  const m = OPERATOR.exec(operator);
  const set = m?.[1] as SetOperator | undefined;
  const base = m?.[2] ?? operator;
  const ifExists = m?.[3] !== undefined;
  const lowerKey = key.toLowerCase();

  if (base === 'Null') {
    if (set !== undefined || ifExists) throw new PolicyError(path, `uses ${quote(operator)}; Null takes no set operator or IfExists`);
    const wanted = new Set(values.map((v) => (/^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : badNull(path, v))));
    return {
      operator,
      key,
      cost: 0,
      test: (scope) => wanted.has(isAbsent(scope.values(lowerKey))),
    };
  }

  const spec = OPERATORS.get(base);
  if (spec === undefined) throw new PolicyError(path, `uses an unknown condition operator ${quote(operator)}`);
  const matcher = spec.compile(values, variablesEnabled, path);
  const { negated } = spec;

  if (set !== undefined) {
    return {
      operator,
      key,
      cost: spec.cost,
      test(scope) {
        const items = requestSet(scope.values(lowerKey));
        if (items.length === 0) return set === 'ForAllValues';
        const match = matcher.bind(scope);
        if (match === undefined) return false;
        const one = negated ? (v: string) => !match(v) : match;
        return set === 'ForAllValues' ? items.every(one) : items.some(one);
      },
    };
  }
  return {
    operator,
    key,
    cost: spec.cost,
    test(scope) {
      const values = scope.values(lowerKey);
      if (isAbsent(values)) return ifExists || negated;
      const match = matcher.bind(scope);
      if (match === undefined) return false;
      // A multivalued key without a set operator matches when any of its values does.
      const any = values.some(match);
      return negated ? !any : any;
    },
  };
}

function isAbsent(values: readonly string[] | undefined): values is undefined {
  return values === undefined || values.length === 0;
}

/** "If the key values in the request resolve to an empty data set (for example, an empty string)…" */
function requestSet(values: readonly string[] | undefined): readonly string[] {
  if (values === undefined || (values.length === 1 && values[0] === '')) return [];
  return values;
}

/** A key's value(s): a string, number or boolean, or a non-empty array of them. */
function conditionValues(raw: unknown, path: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new PolicyError(path, 'must have at least one value');
  return list.map((v, i) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new PolicyError(Array.isArray(raw) ? `${path}[${i}]` : path, 'must be a string, number or boolean');
  });
}

function badNull(path: string, v: string): never {
  throw new PolicyError(path, `value ${quote(v)} is not true or false`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
