import { CompiledCondition, compileConditions } from './condition.js';
import { Predicate, ValueMatcher, compileMatcher } from './patterns.js';
import { PolicyError, quote } from './policy-error.js';
import { PrincipalMatch, PrincipalMatcher, compilePrincipal } from './principal-matcher.js';
import { PolicyRequest } from './request.js';
import { VariableScope, parseTemplate } from './variables.js';

/**
 * One statement, compiled: every list is a ready matcher, every condition a ready test.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */
export type Effect = 'Allow' | 'Deny';

/**
 * - identity: attached to a user, group or role; no Principal (it is about its holder).
 * - resource: attached to a resource (a KMS key policy, an S3 bucket policy); Principal required.
 * - trust: a role's trust policy; Principal required, no Resource (the role is the resource).
 */
export type PolicyKind = 'identity' | 'resource' | 'trust';

/** How a statement came to apply: 'identity' for statements without a Principal element. */
export type MatchedVia = 'identity' | PrincipalMatch;

export interface CompiledStatement {
  /** Position in the Statement array (0 when Statement is a single object). */
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
  readonly principal: { readonly negated: boolean; readonly matcher: PrincipalMatcher } | undefined;
  readonly action: { readonly negated: boolean; readonly test: Predicate };
  /** Undefined in trust policies, which apply to the role they are attached to. */
  readonly resource: { readonly negated: boolean; readonly matcher: ValueMatcher } | undefined;
  /** AND'ed, cheapest first. */
  readonly conditions: readonly CompiledCondition[];
}

const ELEMENTS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const ACTION = /^(?:\*|[A-Za-z0-9-]+:[A-Za-z0-9*?_-]+)$/;

export function compileStatement(raw: unknown, path: string, index: number, kind: PolicyKind, variablesEnabled: boolean): CompiledStatement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new PolicyError(path, 'must be an object');
  const s = raw as Record<string, unknown>;
  for (const name of Object.keys(s)) if (!ELEMENTS.has(name)) throw new PolicyError(path, `has an unknown element ${quote(name)}`);

  if (s.Sid !== undefined && typeof s.Sid !== 'string') throw new PolicyError(`${path}.Sid`, 'must be a string');
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyError(`${path}.Effect`, 'must be Allow or Deny');
  const effect: Effect = s.Effect;

  const principalName = oneOf(s, path, 'Principal', 'NotPrincipal', kind !== 'identity');
  if (kind === 'identity' && principalName !== undefined) {
    throw new PolicyError(`${path}.${principalName}`, 'is not allowed in an identity-based policy');
  }
  if (principalName === 'NotPrincipal' && kind === 'trust') throw new PolicyError(`${path}.NotPrincipal`, 'is not allowed in a trust policy');
  if (principalName === 'NotPrincipal' && effect !== 'Deny') throw new PolicyError(`${path}.NotPrincipal`, 'must be used with "Effect": "Deny"');

  const actionName = oneOf(s, path, 'Action', 'NotAction', true)!;
  const actions = stringList(s[actionName], `${path}.${actionName}`);
  actions.forEach((a, i) => {
    if (!ACTION.test(a)) throw new PolicyError(elementPath(path, actionName, s, i), `value ${quote(a)} must be "*" or service:action`);
  });

  const resourceName = oneOf(s, path, 'Resource', 'NotResource', kind !== 'trust');
  if (kind === 'trust' && resourceName !== undefined) throw new PolicyError(`${path}.${resourceName}`, 'is not allowed in a trust policy');
  let resource: CompiledStatement['resource'];
  if (resourceName !== undefined) {
    const values = stringList(s[resourceName], `${path}.${resourceName}`);
    values.forEach((r, i) => {
      if (r !== '*' && !r.startsWith('arn:')) throw new PolicyError(elementPath(path, resourceName, s, i), `value ${quote(r)} must be "*" or an ARN`);
    });
    resource = {
      negated: resourceName === 'NotResource',
      matcher: compileMatcher(values.map((r) => parseTemplate(r, variablesEnabled)), 'arn'),
    };
  }

  return Object.freeze({
    index,
    sid: s.Sid,
    effect,
    principal:
      principalName === undefined
        ? undefined
        : { negated: principalName === 'NotPrincipal', matcher: compilePrincipal(s[principalName], `${path}.${principalName}`) },
    // Action names are not case-sensitive; they take no policy variables.
    action: {
      negated: actionName === 'NotAction',
      test: compileMatcher(actions.map((a) => parseTemplate(a, false)), 'glob', true).bind(NO_VARIABLES)!,
    },
    resource,
    conditions: s.Condition === undefined ? [] : compileConditions(s.Condition, `${path}.Condition`, variablesEnabled),
  });
}

/**
 * Whether the statement applies to the request, and how its principal was named. Action first (cheapest),
 * then resource, principal and conditions. A policy variable that cannot be resolved makes the statement
 * not apply, whatever its effect and whether or not it sits in a Not… element.
 * With `request.unknown`, a condition on an unknown key is assumed as UnknownKeys says, and the keys so
 * assumed for a statement that applies are pushed to `assumed`.
 */
export function statementApplies(st: CompiledStatement, request: PolicyRequest, scope: VariableScope, assumed?: string[]): MatchedVia | undefined {
  if (st.action.test(request.action) === st.action.negated) return undefined;
  if (st.resource !== undefined) {
    const test = st.resource.matcher.bind(scope);
    if (test === undefined || test(request.resource) === st.resource.negated) return undefined;
  }
  let via: MatchedVia = 'identity';
  if (st.principal !== undefined) {
    const { negated, matcher } = st.principal;
    if (negated) {
      if (matcher.exempts(request.principal)) return undefined;
      via = 'any';
    } else {
      const m = matcher.match(request.principal);
      if (m === undefined) return undefined;
      via = m;
    }
  }
  const unknown = request.unknown;
  for (const c of st.conditions) {
    if (unknown !== undefined && unknown.keys.has(c.key.toLowerCase())) {
      if ((st.effect === 'Allow') !== (unknown.assume === 'allow')) return undefined;
      assumed?.push(c.key);
      continue;
    }
    if (!c.test(scope)) return undefined;
  }
  return via;
}

const NO_VARIABLES: VariableScope = { values: () => undefined };

/** Exactly one of the pair may appear; `required` says whether one must. Returns the one present. */
function oneOf<A extends string, B extends string>(s: Record<string, unknown>, path: string, a: A, b: B, required: boolean): A | B | undefined {
  const hasA = s[a] !== undefined;
  const hasB = s[b] !== undefined;
  if (hasA && hasB) throw new PolicyError(path, `must not have both ${a} and ${b}`);
  if (required && !hasA && !hasB) throw new PolicyError(path, `must have ${a} or ${b}`);
  return hasA ? a : hasB ? b : undefined;
}

/** A string or a non-empty array of strings. */
function stringList(value: unknown, path: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new PolicyError(path, 'must not be empty');
  return list.map((v, i) => {
    if (typeof v !== 'string' || v === '') throw new PolicyError(Array.isArray(value) ? `${path}[${i}]` : path, 'must be a non-empty string');
    return v;
  });
}

function elementPath(path: string, name: string, s: Record<string, unknown>, i: number): string {
  return Array.isArray(s[name]) ? `${path}.${name}[${i}]` : `${path}.${name}`;
}
