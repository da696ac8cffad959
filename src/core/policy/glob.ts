/**
 * The policy language's two wildcards, `*` (any run of characters, possibly none) and `?` (exactly one
 * character), compiled once into a token program and matched without regular expressions: a backtracking
 * regex for a pattern like "*a*a*a*a*b" takes time exponential in the number of stars, and both the
 * pattern (a policy author) and the value (a caller) are untrusted. This matcher is O(pattern × value).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
 */

/** Code points, or one of the markers below. */
export type Glob = readonly number[];

export const STAR = -1;
export const ONE = -2;

const ASTERISK = 0x2a;
const QUESTION = 0x3f;

/** Tokens of `text`; with `wildcards`, `*` and `?` become STAR and ONE, else every character is literal. */
export function globTokens(text: string, wildcards: boolean): number[] {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    out.push(wildcards && c === ASTERISK ? STAR : wildcards && c === QUESTION ? ONE : c);
  }
  return out;
}

export function isLiteral(glob: Glob): boolean {
  return glob.every((t) => t >= 0);
}

export function literalText(glob: Glob): string {
  return String.fromCodePoint(...glob);
}

/**
 * A test for `glob` (over values folded as the glob was): the common shapes — a literal, "*", "prefix*" —
 * without the general matcher, which copies the value into code points first. The shortcuts are taken only
 * when the glob has no lone surrogate, so that comparing UTF-16 units agrees with comparing code points.
 */
export function globPredicate(glob: Glob): (value: string) => boolean {
  const simple = glob.every((t) => t === STAR || (t >= 0 && (t < 0xd800 || t > 0xdfff)));
  const first = glob.indexOf(STAR);
  if (simple && first === -1) {
    const text = literalText(glob);
    return (v) => v === text;
  }
  if (simple && first === glob.length - 1) {
    if (first === 0) return () => true;
    const prefix = literalText(glob.slice(0, first));
    return (v) => v.startsWith(prefix);
  }
  return (v) => globMatch(glob, v);
}

/**
 * Greedy match with one backtrack point: on a mismatch, the last `*` absorbs one more character. Each
 * `*` supersedes the previous backtrack point, which keeps the work at O(pattern × value).
 */
export function globMatch(glob: Glob, value: string): boolean {
  const s = Array.from(value, (ch) => ch.codePointAt(0)!);
  let p = 0;
  let i = 0;
  let star = -1;
  let resume = 0;
  while (i < s.length) {
    const t = glob[p];
    if (t !== undefined && (t === ONE || t === s[i])) {
      p++;
      i++;
    } else if (t === STAR) {
      star = p++;
      resume = i;
    } else if (star >= 0) {
      p = star + 1;
      i = ++resume;
    } else {
      return false;
    }
  }
  while (glob[p] === STAR) p++;
  return p === glob.length;
}
