import { Template, TemplatePart, VariableScope, resolveText, resolveVariable } from './variables.js';
import { ANY_CHARACTERS, WITHIN_SEGMENT, anchored, escapeRegex, hasWildcard, wildcardSource } from './wildcard.js';

/**
 * Lists of policy strings compiled into one test. The parts that need no request (no variables) are
 * compiled once: plain strings into a Set, wildcard patterns into one regular expression. Parts with
 * variables are finished when bound to a request; binding fails (undefined) when a variable is absent,
 * and the caller then treats its statement as not applying.
 */
export type Predicate = (value: string) => boolean;

export interface ValueMatcher {
  bind(scope: VariableScope): Predicate | undefined;
}

/**
 * How wildcards read:
 * - `exact`: none (StringEquals; `*` is just a character);
 * - `glob`: `*` and `?` anywhere (StringLike, Action);
 * - `arn`: like glob, but in an ARN's first five colon-separated segments a wildcard stays inside its
 *   segment ("You can use wildcard characters (* and ?) within any ARN segment"), as ArnLike does:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
 *   A value with fewer than five colons (such as "*") is read as `glob`.
 */
export type Dialect = 'exact' | 'glob' | 'arn';

export function compileMatcher(templates: readonly Template[], dialect: Dialect, ignoreCase = false): ValueMatcher {
  const fold = ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s;
  const plain = new Set<string>();
  const patterns: string[] = [];
  const dynamic: Template[] = [];
  for (const t of templates) {
    if (t.dynamic) dynamic.push(t);
    else if (dialect === 'exact' || !isPattern(t)) plain.add(fold(resolveText(t, NO_SCOPE)!));
    else patterns.push(regexSource(t, dialect, NO_SCOPE)!);
  }
  const regex = patterns.length > 0 ? anchored(patterns, ignoreCase) : undefined;
  const fixed: Predicate =
    regex === undefined ? (v) => plain.has(fold(v)) : plain.size === 0 ? (v) => regex.test(v) : (v) => plain.has(fold(v)) || regex.test(v);
  if (dynamic.length === 0) return { bind: () => fixed };

  return {
    bind(scope) {
      if (dialect === 'exact') {
        const values = new Set<string>();
        for (const t of dynamic) {
          const v = resolveText(t, scope);
          if (v === undefined) return undefined;
          values.add(fold(v));
        }
        return (v) => fixed(v) || values.has(fold(v));
      }
      const sources: string[] = [];
      for (const t of dynamic) {
        const s = regexSource(t, dialect, scope);
        if (s === undefined) return undefined;
        sources.push(s);
      }
      const bound = anchored(sources, ignoreCase);
      return (v) => fixed(v) || bound.test(v);
    },
  };
}

const NO_SCOPE: VariableScope = { values: () => undefined };

function isPattern(t: Template): boolean {
  return t.parts.some((p) => p.kind === 'text' && hasWildcard(p.text));
}

/** Regex source of one template; variable values and fixed characters are literal, never wildcards. */
function regexSource(t: Template, dialect: 'glob' | 'arn', scope: VariableScope): string | undefined {
  const colons = t.parts.reduce((n, p) => n + (p.kind === 'text' ? count(p.text, ':') : 0), 0);
  const segmented = dialect === 'arn' && colons >= 5;
  let segment = 0;
  let out = '';
  for (const p of t.parts) {
    if (p.kind !== 'text') {
      const text = literal(p, scope);
      if (text === undefined) return undefined;
      out += escapeRegex(text);
      continue;
    }
    if (!segmented) {
      out += wildcardSource(p.text);
      continue;
    }
    // Walk segment by segment so each stretch gets the reading of the segment it lies in.
    const pieces = p.text.split(':');
    pieces.forEach((piece, i) => {
      if (i > 0) {
        out += ':';
        segment++;
      }
      out += wildcardSource(piece, segment < 5 ? WITHIN_SEGMENT : ANY_CHARACTERS);
    });
  }
  return out;
}

function literal(p: Exclude<TemplatePart, { kind: 'text' }>, scope: VariableScope): string | undefined {
  return p.kind === 'fixed' ? p.text : resolveVariable(p, scope);
}

function count(text: string, ch: string): number {
  let n = 0;
  for (const c of text) if (c === ch) n++;
  return n;
}
