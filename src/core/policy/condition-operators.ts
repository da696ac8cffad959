import { BlockList, isIP } from 'node:net';
import { PolicyError, quote } from './policy-error.js';
import { Dialect, Predicate, ValueMatcher, compileMatcher } from './patterns.js';
import { parseTemplate } from './variables.js';
import { UNITS, spend } from './work-budget.js';

/**
 * The condition operators, each reduced to its positive comparison: a matcher that is true when one
 * request value matches any of the policy's values. The negated operators (StringNotEquals, NotIpAddress,
 * ArnNotLike, …) reuse the positive matcher; condition.ts applies the negation, which is also where the
 * rules for absent keys, `IfExists` and the set operators live.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 */
export interface OperatorSpec {
  readonly negated: boolean;
  /** Rough cost, so that compiled conditions run cheapest first (they are AND'ed). */
  readonly cost: number;
  /** Compiles the policy values; throws PolicyError (naming `path`) on a value the operator cannot read. */
  compile(values: readonly string[], variablesEnabled: boolean, path: string): ValueMatcher;
}

type Compare = (request: number, policy: number) => boolean;
const EQ: Compare = (a, b) => a === b;
const LT: Compare = (a, b) => a < b;
const LTE: Compare = (a, b) => a <= b;
const GT: Compare = (a, b) => a > b;
const GTE: Compare = (a, b) => a >= b;

/** String and ARN operators are the only ones where policy variables are substituted. */
function strings(dialect: Dialect, ignoreCase: boolean, negated: boolean, cost: number): OperatorSpec {
  return {
    negated,
    cost,
    compile: (values, variablesEnabled) =>
      compileMatcher(values.map((v) => parseTemplate(v, variablesEnabled)), dialect, ignoreCase),
  };
}

/**
 * `parse`, remembering its last answer: one request value is usually compared by many conditions in a
 * row (a statement per value in a long policy), and parsing is linear in the value's length.
 */
function rememberingLast(parse: (s: string) => number | undefined): (s: string) => number | undefined {
  let lastText: string | undefined;
  let lastValue: number | undefined;
  return (text) => {
    if (text !== lastText) {
      lastValue = parse(text);
      lastText = text;
    }
    return lastValue;
  };
}

function ordered(exactParse: (s: string) => number | undefined, what: string, compare: Compare, negated = false): OperatorSpec {
  const parse = rememberingLast(exactParse);
  return {
    negated,
    cost: 2,
    compile(values, _variables, path) {
      const policy = values.map((v) => parse(v) ?? fail(path, `value ${quote(v)} is not ${what}`));
      return fixed((v) => {
        const n = parse(v);
        return n !== undefined && policy.some((p) => compare(n, p));
      });
    },
  };
}

const BOOL: OperatorSpec = {
  negated: false,
  cost: 0,
  compile(values, _variables, path) {
    const allowed = new Set(values.map((v) => (/^(true|false)$/i.test(v) ? v.toLowerCase() : fail(path, `value ${quote(v)} is not true or false`))));
    return fixed((v) => allowed.has(v.toLowerCase()));
  },
};

/** BinaryEquals compares base64-encoded bytes; both sides are normalized through a decode. */
const BINARY: OperatorSpec = {
  negated: false,
  cost: 1,
  compile(values, _variables, path) {
    const allowed = new Set(values.map((v) => canonicalBase64(v) ?? fail(path, `value ${quote(v)} is not base64`)));
    return fixed((v) => {
      const c = canonicalBase64(v);
      return c !== undefined && allowed.has(c);
    });
  },
};

function ipRanges(negated: boolean): OperatorSpec {
  return {
    negated,
    cost: 3,
    compile(values, _variables, path) {
      const ranges = new BlockList();
      for (const v of values) if (!addRange(ranges, v)) fail(path, `value ${quote(v)} is not an IPv4 or IPv6 address or CIDR block`);
      return fixed((v) => {
        const ip = unmapIPv4(v.trim());
        const family = isIP(ip);
        return family !== 0 && ranges.check(ip, family === 4 ? 'ipv4' : 'ipv6');
      });
    },
  };
}

/** Every operator by name, without the `ForAnyValue:`/`ForAllValues:` prefix and the `IfExists` suffix. */
export const OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map<string, OperatorSpec>([
  ['StringEquals', strings('exact', false, false, 1)],
  ['StringNotEquals', strings('exact', false, true, 1)],
  ['StringEqualsIgnoreCase', strings('exact', true, false, 1)],
  ['StringNotEqualsIgnoreCase', strings('exact', true, true, 1)],
  ['StringLike', strings('glob', false, false, 2)],
  ['StringNotLike', strings('glob', false, true, 2)],
  ['NumericEquals', ordered(parseNumber, 'a number', EQ)],
  ['NumericNotEquals', ordered(parseNumber, 'a number', EQ, true)],
  ['NumericLessThan', ordered(parseNumber, 'a number', LT)],
  ['NumericLessThanEquals', ordered(parseNumber, 'a number', LTE)],
  ['NumericGreaterThan', ordered(parseNumber, 'a number', GT)],
  ['NumericGreaterThanEquals', ordered(parseNumber, 'a number', GTE)],
  ['DateEquals', ordered(parseDate, 'an ISO 8601 date or epoch seconds', EQ)],
  ['DateNotEquals', ordered(parseDate, 'an ISO 8601 date or epoch seconds', EQ, true)],
  ['DateLessThan', ordered(parseDate, 'an ISO 8601 date or epoch seconds', LT)],
  ['DateLessThanEquals', ordered(parseDate, 'an ISO 8601 date or epoch seconds', LTE)],
  ['DateGreaterThan', ordered(parseDate, 'an ISO 8601 date or epoch seconds', GT)],
  ['DateGreaterThanEquals', ordered(parseDate, 'an ISO 8601 date or epoch seconds', GTE)],
  ['Bool', BOOL],
  ['BinaryEquals', BINARY],
  ['IpAddress', ipRanges(false)],
  ['NotIpAddress', ipRanges(true)],
  // ArnEquals and ArnLike behave alike: both take wildcards, segment by segment.
  ['ArnEquals', strings('arn', false, false, 2)],
  ['ArnLike', strings('arn', false, false, 2)],
  ['ArnNotEquals', strings('arn', false, true, 2)],
  ['ArnNotLike', strings('arn', false, true, 2)],
]);

/** Parsing a request value is linear in its length: charged so (work-budget.ts). */
function fixed(test: Predicate): ValueMatcher {
  const charged: Predicate = (v) => {
    spend(UNITS.CALL + v.length);
    return test(v);
  };
  return { bind: () => charged };
}

function fail(path: string, problem: string): never {
  throw new PolicyError(path, problem);
}

// Unambiguous on purpose: `\d+\.?\d*` splits a run of digits in n ways, and a backtracking engine tries
// them all (a 8,000-digit value followed by "x" took 190 ms, 32,000 digits 2.6 s, per test).
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseNumber(text: string): number | undefined {
  const s = text.trim();
  return NUMBER.test(s) ? Number(s) : undefined;
}

const EPOCH = /^[+-]?\d+(?:\.\d+)?$/;
const ISO_8601 = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Milliseconds since the epoch of an ISO 8601 date/time (UTC unless it carries an offset) or of a count of
 * epoch seconds, the two forms of aws:CurrentTime and aws:EpochTime.
 */
export function parseDate(text: string): number | undefined {
  const s = text.trim();
  if (EPOCH.test(s)) return Number(s) * 1000;
  const m = ISO_8601.exec(s);
  if (!m) return undefined;
  const [, day, time, zone] = m;
  const offset = zone === undefined ? 'Z' : /^z$/i.test(zone) ? 'Z' : zone.length === 3 ? `${zone}:00` : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const ms = Date.parse(time === undefined ? `${day}T00:00:00Z` : `${day}T${time}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}

function canonicalBase64(text: string): string | undefined {
  const s = text.trim();
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s, 'base64').toString('base64');
}

/** Adds "203.0.113.0/24", "2001:DB8::/32" or a single address to the list; false if it is none of these. */
function addRange(list: BlockList, text: string): boolean {
  const [address = '', prefix, extra] = text.trim().split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) {
    list.addAddress(address, type);
    return true;
  }
  const bits = Number(prefix);
  if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) return false;
  list.addSubnet(address, bits, type);
  return true;
}

/** A socket's "::ffff:192.0.2.1" is the IPv4 address 192.0.2.1 for aws:SourceIp. */
function unmapIPv4(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}
