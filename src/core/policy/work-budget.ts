/**
 * A bound on the work of evaluating policies for one request. Policies and request values are both
 * untrusted (a tenant writes its key policy and sends the encryption context), and evaluation runs on the
 * event loop that serves every tenant: without a bound, one request pairing many patterns with many
 * values (a 32 KB key policy, ten 6 KB managed policies on each of ten groups, thousands of encryption
 * context keys under ForAnyValue) would stall every other caller.
 *
 * The unit is roughly one character compared or one value tested. Matching code calls `spend` as it goes;
 * `evaluate` runs with the request's meter active and, when it runs out, stops and fails closed (the
 * request is denied; see evaluate.ts). Evaluation is synchronous, so one active meter at a time is enough.
 */

/**
 * Units one request may spend: well above what real policies need (a full 32 KB key policy and the largest
 * identity-policy set IAM's quotas allow, of ordinary statements, spend a small fraction of it), and
 * little enough that exhausting it takes a few milliseconds (test/unit/policy/evaluation-cost.test.ts).
 */
export const EVALUATION_WORK_UNITS = 3_000_000;

/**
 * What things cost, calibrated so that one unit is about a nanosecond on a current x86 core: calling a
 * compiled matcher costs tens of units whatever it compares (CALL), a set lookup or a string equality less
 * (LOOKUP), a character parsed by a regular expression one, a character compared in a JavaScript loop two
 * (LOOP_CHAR), a character a native indexOf scans up to several (INDEX_OF_CHAR: V8 searches a short pattern
 * whose first character is frequent in the value, "ab" in "aaaa…", with one memchr per occurrence), a
 * character of a value copied into code points more (CODE_POINT).
 */
export const UNITS = { CALL: 40, LOOKUP: 20, LOOP_CHAR: 2, INDEX_OF_CHAR: 4, CODE_POINT: 8 } as const;

export class WorkMeter {
  constructor(public remaining = EVALUATION_WORK_UNITS) {}
  get exhausted(): boolean {
    return this.remaining < 0;
  }
}

/** Thrown by `spend` when the active meter runs out; caught by `evaluate`. */
export class WorkBudgetExceeded extends Error {
  constructor() {
    super('policy evaluation exceeded its work budget');
  }
}

const UNMETERED = new WorkMeter(Number.POSITIVE_INFINITY);
let active = UNMETERED;

/** Charges `units` to the active meter (none outside `metered`: matchers used on their own are free). */
export function spend(units: number): void {
  if ((active.remaining -= units) < 0) throw new WorkBudgetExceeded();
}

/** Runs `fn` with `meter` active. A meter already spent fails at the first charge. */
export function metered<T>(meter: WorkMeter, fn: () => T): T {
  const saved = active;
  active = meter;
  try {
    return fn();
  } finally {
    active = saved;
  }
}
