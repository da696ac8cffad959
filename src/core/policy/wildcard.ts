/**
 * The policy language's two wildcards, `*` (any run of characters, possibly empty) and `?` (exactly one
 * character), turned into regular expressions once, when a policy is compiled.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
 */

const SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

export function escapeRegex(text: string): string {
  return text.replace(SYNTAX, '\\$&');
}

export function hasWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

/** How `*` and `?` read in one stretch of a pattern (in an ARN's first five segments they stop at `:`). */
export interface WildcardReading {
  readonly star: string;
  readonly one: string;
}

export const ANY_CHARACTERS: WildcardReading = { star: '.*', one: '.' };
export const WITHIN_SEGMENT: WildcardReading = { star: '[^:]*', one: '[^:]' };

/** Regex source for literal text in which `*` and `?` are wildcards. */
export function wildcardSource(text: string, reading: WildcardReading = ANY_CHARACTERS): string {
  let out = '';
  for (const ch of text) out += ch === '*' ? reading.star : ch === '?' ? reading.one : escapeRegex(ch);
  return out;
}

/** Anchors alternatives into one expression; `u` so that `?` is one code point, `s` so `*` spans newlines. */
export function anchored(sources: readonly string[], ignoreCase: boolean): RegExp {
  const body = sources.length === 1 ? sources[0]! : sources.map((s) => `(?:${s})`).join('|');
  return new RegExp(`^(?:${body})$`, ignoreCase ? 'isu' : 'su');
}
