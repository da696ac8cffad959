/**
 * Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}` and the three fixed ones
 * `${*}`, `${?}`, `${$}` that stand for the characters themselves. They are only variables in a policy of
 * Version 2012-10-17; in older policies `${...}` is literal text. A variable whose key is absent from the
 * request, and that has no default, makes its statement not apply ("any attempt to match it fails and
 * causes the statement to be invalid").
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 */

/** A piece of a policy string: pattern text (wildcards active), fixed text (no wildcards), or a variable. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'fixed'; readonly text: string }
  | { readonly kind: 'variable'; readonly key: string; readonly fallback: string | undefined };

export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** Whether resolving needs the request (some part is a variable). */
  readonly dynamic: boolean;
}

/** What variables resolve against: the request's condition keys, looked up case-insensitively. */
export interface VariableScope {
  values(lowerCaseKey: string): readonly string[] | undefined;
}

const FIXED: Readonly<Record<string, string>> = { '*': '*', '?': '?', $: '$' };
const VARIABLE = /\$\{([^{}]*)\}/g;
/**
 * The default of `${key, 'default'}`: the first comma followed only by a quoted string. Not written as
 * /^(.*?)\s*,\s*'([^']*)'$/: its lazy prefix and the whitespace run around the comma overlap, which costs
 * a backtracking engine O(n²) on a long run of spaces (the policy author chooses the text).
 */
const DEFAULT_TAIL = /,\s*'([^']*)'$/;

export function parseTemplate(source: string, variablesEnabled: boolean): Template {
  if (!variablesEnabled || !source.includes('${')) {
    return { source, parts: [{ kind: 'text', text: source }], dynamic: false };
  }
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of source.matchAll(VARIABLE)) {
    const inner = m[1]!.trim();
    if (inner === '') continue;
    if (m.index > last) parts.push({ kind: 'text', text: source.slice(last, m.index) });
    const fixed = FIXED[inner];
    const withDefault = DEFAULT_TAIL.exec(inner);
    if (fixed !== undefined) parts.push({ kind: 'fixed', text: fixed });
    else if (withDefault) parts.push({ kind: 'variable', key: inner.slice(0, withDefault.index).trimEnd().toLowerCase(), fallback: withDefault[1]! });
    else parts.push({ kind: 'variable', key: inner.toLowerCase(), fallback: undefined });
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push({ kind: 'text', text: source.slice(last) });
  return { source, parts, dynamic: parts.some((p) => p.kind === 'variable') };
}

/** A variable's value: the key's single value in the request, else the default, else undefined. */
export function resolveVariable(part: { key: string; fallback: string | undefined }, scope: VariableScope): string | undefined {
  const values = scope.values(part.key);
  return values?.length === 1 ? values[0] : part.fallback;
}

/** The template as plain text, every variable substituted; undefined if a variable cannot be resolved. */
export function resolveText(template: Template, scope: VariableScope): string | undefined {
  if (!template.dynamic) return template.parts.map((p) => (p.kind === 'variable' ? '' : p.text)).join('');
  let out = '';
  for (const p of template.parts) {
    const text = p.kind === 'variable' ? resolveVariable(p, scope) : p.text;
    if (text === undefined) return undefined;
    out += text;
  }
  return out;
}
