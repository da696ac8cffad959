import { Glob, globPredicate, globTokens, isLiteral, literalText } from './glob.js';
import { Template, VariableScope, resolveVariable } from './variables.js';
import { UNITS, spend } from './work-budget.js';

/**
 * Lists of policy strings compiled into one test. The entries that need no request (no variables) are
 * compiled once: plain strings into a Set, wildcard patterns into glob programs. Entries with variables
 * are finished when bound to a request; binding fails (undefined) when a variable is absent, and the
 * caller then treats the statement as not applying.
 */
export type Predicate = (value: string) => boolean;

export interface ValueMatcher {
  bind(scope: VariableScope): Predicate | undefined;
}

/**
 * How wildcards read:
 * - `exact`: none (StringEquals; `*` is just a character);
 * - `glob`: `*` and `?` anywhere (StringLike, Action);
 * - `arn`: like glob, but within each of an ARN's first five colon-separated segments, never across one
 *   ("You can use wildcard characters (* and ?) within any ARN segment"), as ArnLike does:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
 *   A pattern with fewer than five colons (such as "*") is read as `glob`.
 */
export type Dialect = 'exact' | 'glob' | 'arn';

/** `ignoreCase` folds both sides to lower case (action names). */
export function compileMatcher(templates: readonly Template[], dialect: Dialect, ignoreCase = false): ValueMatcher {
  // Folding copies the value: charged by its length (work-budget.ts).
  const fold = ignoreCase
    ? (s: string) => {
        spend(s.length);
        return s.toLowerCase();
      }
    : (s: string) => s;
  const plain = new Set<string>();
  const patterns: Predicate[] = [];
  const dynamic: Template[] = [];
  for (const t of templates) {
    if (t.dynamic) {
      dynamic.push(t);
      continue;
    }
    const program = compileProgram(t, dialect, fold, NO_SCOPE)!;
    if (typeof program === 'string') plain.add(program);
    else patterns.push(program);
  }
  const fixed = union(plain, patterns, fold);
  if (dynamic.length === 0) return { bind: () => fixed };

  return {
    bind(scope) {
      const boundPlain = new Set<string>();
      const boundPatterns: Predicate[] = [];
      for (const t of dynamic) {
        const program = compileProgram(t, dialect, fold, scope);
        if (program === undefined) return undefined;
        if (typeof program === 'string') boundPlain.add(program);
        else boundPatterns.push(program);
      }
      const bound = union(boundPlain, boundPatterns, fold);
      return (v) => fixed(v) || bound(v);
    },
  };
}

const NO_SCOPE: VariableScope = { values: () => undefined };
const COLON = 0x3a;
/** A colon written in the pattern itself (not one from a variable): a segment separator in `arn`. */
const SEPARATOR = -3;

/** Each test is charged a set lookup; the glob predicates charge their own work. */
function union(plain: ReadonlySet<string>, patterns: readonly Predicate[], fold: (s: string) => string): Predicate {
  if (patterns.length === 0) {
    return (v) => {
      spend(UNITS.LOOKUP);
      return plain.has(fold(v));
    };
  }
  return (v) => {
    spend(UNITS.LOOKUP);
    const f = fold(v);
    return plain.has(f) || patterns.some((p) => p(f));
  };
}

/**
 * One template as a plain string (no wildcards) or a predicate over a (folded) value; undefined when a
 * variable cannot be resolved. Variable values and `${*}`-style characters are always literal.
 */
function compileProgram(t: Template, dialect: Dialect, fold: (s: string) => string, scope: VariableScope): string | Predicate | undefined {
  const tokens: number[] = [];
  for (const p of t.parts) {
    if (p.kind === 'text') {
      for (const c of globTokens(fold(p.text), dialect !== 'exact')) tokens.push(dialect === 'arn' && c === COLON ? SEPARATOR : c);
    } else {
      const text = p.kind === 'fixed' ? p.text : resolveVariable(p, scope);
      if (text === undefined) return undefined;
      tokens.push(...globTokens(fold(text), false));
    }
  }
  // Compiled per request when the template has variables (their values come from the request).
  spend(tokens.length);
  const separators = tokens.filter((c) => c === SEPARATOR).length;
  if (separators < 5) {
    const glob = tokens.map((c) => (c === SEPARATOR ? COLON : c));
    return isLiteral(glob) ? literalText(glob) : globPredicate(glob);
  }
  const segments = arnSegments(tokens);
  if (segments.every(isLiteral)) return segments.map(literalText).join(':');
  const tests = segments.map(globPredicate);
  return (v) => {
    const parts = splitArn(v);
    return parts !== undefined && tests.every((test, i) => test(parts[i]!));
  };
}

/** Splits tokens at the first five separators; later ones belong to the resource part as plain colons. */
function arnSegments(tokens: readonly number[]): Glob[] {
  const segments: number[][] = [[]];
  for (const c of tokens) {
    if (c === SEPARATOR && segments.length < 6) segments.push([]);
    else segments[segments.length - 1]!.push(c === SEPARATOR ? COLON : c);
  }
  return segments;
}

/** The last value split, and its parts: one value is usually tested against many ARN patterns in a row. */
let lastArn: string | undefined;
let lastParts: string[] | undefined;

/** arn:partition:service:region:account:resource, the resource part keeping any further colons. */
function splitArn(value: string): string[] | undefined {
  if (value === lastArn) {
    spend(UNITS.LOOKUP);
    return lastParts;
  }
  const parts: string[] = [];
  let start = 0;
  let complete = true;
  for (let k = 0; k < 5 && complete; k++) {
    const i = value.indexOf(':', start);
    if (i < 0) complete = false;
    else {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  spend(UNITS.CALL + (complete ? start : value.length));
  if (complete) parts.push(value.slice(start));
  lastArn = value;
  lastParts = complete ? parts : undefined;
  return lastParts;
}
