import { UNITS, spend } from './work-budget.js';

/**
 * The policy language's two wildcards, `*` (any run of characters, possibly none) and `?` (exactly one
 * character), compiled once and matched without regular expressions or backtracking: both the pattern (a
 * policy author) and the value (a caller) are untrusted, and a backtracking matcher costs
 * O(pattern × value) — a 30 KB pattern against a 400 KB value stalled the event loop for 88 s.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
 *
 * A glob is a run of segments separated by `*`. Each segment has a fixed length (`?` is one character), so
 * matching needs no backtracking: the first segment must sit at the start of the value, the last at its
 * end, and each one between at its leftmost occurrence after the previous one — a later occurrence never
 * leaves more room for the segments that follow. With literal segments (no `?`) that is a few native
 * startsWith/indexOf/endsWith calls, O(pattern + value); a segment with `?` is searched position by
 * position, at worst O(segment × value). Either way the work is charged to the request's budget
 * (work-budget.ts), which is what bounds a request however its policies and values are shaped.
 */

/** Code points, or one of the markers below. */
export type Glob = readonly number[];

export const STAR = -1;
export const ONE = -2;

const ASTERISK = 0x2a;
const QUESTION = 0x3f;
const { CALL: CALL_UNITS, LOOKUP: LOOKUP_UNITS, LOOP_CHAR, INDEX_OF_CHAR: INDEX_OF_UNITS, CODE_POINT } = UNITS;

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

/** The glob split at its stars; `starred` is false for a glob without any (one segment, the whole value). */
function segmentsOf(glob: Glob): { segments: number[][]; starred: boolean } {
  const segments: number[][] = [[]];
  for (const t of glob) {
    if (t === STAR) segments.push([]);
    else segments[segments.length - 1]!.push(t);
  }
  return { segments, starred: segments.length > 1 };
}

/**
 * A test for `glob` (over values folded as the glob was). When no segment has a `?` or a lone surrogate,
 * the value's UTF-16 string is matched as it is: comparing whole code points of well-formed text at
 * UTF-16 offsets gives the same answer as comparing code points, and no copy of the value is made. Else
 * the value is read as code points, so that `?` takes a whole surrogate pair.
 */
export function globPredicate(glob: Glob): (value: string) => boolean {
  const { segments, starred } = segmentsOf(glob);
  const plain = glob.every((t) => t === STAR || (t >= 0 && (t < 0xd800 || t > 0xdfff)));
  if (!plain) return (v) => matchCodePoints(segments, starred, v);
  const texts = segments.map((s) => String.fromCodePoint(...s));
  if (!starred) {
    const text = texts[0]!;
    return (v) => {
      spend(LOOKUP_UNITS);
      return v === text;
    };
  }
  const first = texts[0]!;
  const last = texts[texts.length - 1]!;
  const middle = texts.slice(1, -1).filter((t) => t !== '');
  const fixed = first.length + last.length;
  return (v) => {
    if (v.length < fixed || !v.startsWith(first) || !v.endsWith(last)) {
      spend(CALL_UNITS + fixed);
      return false;
    }
    let at = first.length;
    const end = v.length - last.length;
    let ok = true;
    for (let k = 0; k < middle.length; k++) {
      const m = middle[k]!;
      const found = v.indexOf(m, at);
      if (found < 0 || found + m.length > end) {
        ok = false;
        break;
      }
      at = found + m.length;
    }
    // indexOf scanned from the first segment's end to where the last search stopped (the end on failure).
    spend(CALL_UNITS + fixed + INDEX_OF_UNITS * ((ok ? at : v.length) - first.length));
    return ok;
  };
}

/** The general matcher over code points (what globPredicate does for any glob). */
export function globMatch(glob: Glob, value: string): boolean {
  const { segments, starred } = segmentsOf(glob);
  return matchCodePoints(segments, starred, value);
}

/** The last value read as code points: one value is usually tested against many globs in a row. */
let lastValue: string | undefined;
let lastCodes: readonly number[] = [];

function codePoints(value: string): readonly number[] {
  if (value !== lastValue) {
    spend(CODE_POINT * value.length);
    lastCodes = Array.from(value, (ch) => ch.codePointAt(0)!);
    lastValue = value;
  }
  return lastCodes;
}

function matchCodePoints(segments: readonly (readonly number[])[], starred: boolean, value: string): boolean {
  spend(CALL_UNITS);
  const s = codePoints(value);
  const first = segments[0]!;
  if (!starred) return s.length === first.length && matchesAt(first, s, 0);
  const last = segments[segments.length - 1]!;
  if (s.length < first.length + last.length) return false;
  if (!matchesAt(first, s, 0) || !matchesAt(last, s, s.length - last.length)) return false;
  let at = first.length;
  const end = s.length - last.length;
  for (let k = 1; k < segments.length - 1; k++) {
    const seg = segments[k]!;
    if (seg.length === 0) continue;
    const found = leftmost(seg, s, at, end);
    if (found < 0) return false;
    at = found + seg.length;
  }
  return true;
}

/** Whether `seg` matches `s` at `at` (which leaves room for it). */
function matchesAt(seg: readonly number[], s: readonly number[], at: number): boolean {
  spend(LOOP_CHAR * seg.length);
  for (let j = 0; j < seg.length; j++) {
    const t = seg[j]!;
    if (t !== ONE && t !== s[at + j]) return false;
  }
  return true;
}

/** The leftmost position in [from, end - seg.length] where `seg` matches, or -1; charged as it scans. */
function leftmost(seg: readonly number[], s: readonly number[], from: number, end: number): number {
  let work = 0;
  try {
    for (let p = from; p + seg.length <= end; p++) {
      let j = 0;
      while (j < seg.length && (seg[j] === ONE || seg[j] === s[p + j])) j++;
      work += LOOP_CHAR * (j + 1);
      if (j === seg.length) return p;
      if (work >= 4096) {
        spend(work);
        work = 0;
      }
    }
    return -1;
  } finally {
    spend(work);
  }
}
