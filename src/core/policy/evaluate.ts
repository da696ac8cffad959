import { CompiledPolicy } from './parse-policy.js';
import { ContextKeys, PolicyRequest } from './request.js';
import { Effect, MatchedVia, statementApplies } from './statement.js';
import { WorkBudgetExceeded, metered } from './work-budget.js';

/**
 * Evaluating a set of policies against one request: an explicit Deny in any applicable statement wins;
 * otherwise any applicable Allow allows; otherwise the request is implicitly denied.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
export interface NamedPolicy {
  /** How explanations name it: a managed policy's ARN, an inline policy's name, "default" for a key policy. */
  readonly name: string;
  readonly policy: CompiledPolicy;
}

export type Decision = 'Allow' | 'Deny' | 'ImplicitDeny';

/** A statement that applied, for explanations and audit. */
export interface StatementRef {
  readonly policy: string;
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
  /**
   * How the statement's Principal named the caller. `account` means only through the caller's account
   * root: a delegation to the account, which the caller's identity-based policies must then confirm.
   */
  readonly via: MatchedVia;
  /** Only for explanations: the unknown condition keys this statement was assumed to meet (PolicyRequest.unknown). */
  readonly assumed?: readonly string[];
}

export interface EvaluationResult {
  readonly decision: Decision;
  /** Every applicable statement, Deny and Allow, in policy and document order. */
  readonly matched: readonly StatementRef[];
  /**
   * Set when evaluation stopped because the request's work budget ran out (work-budget.ts): the decision is
   * then Deny, whatever the statements say. Failing closed is the only safe answer: an unevaluated Deny
   * statement might have applied.
   */
  readonly overBudget?: true;
}

/** The reason AccessDenied messages give for an evaluation that ran out of budget. */
export const OVER_BUDGET_REASON = 'because evaluating the policies that apply to this request exceeded the policy evaluation work limit';

/**
 * `keys` lets a caller that evaluates several policy sets for one request fold its context once; they
 * share its work budget.
 */
export function evaluate(policies: readonly NamedPolicy[], request: PolicyRequest, keys: ContextKeys = ContextKeys.of(request)): EvaluationResult {
  const matched: StatementRef[] = [];
  try {
    metered(keys.meter, () => {
      for (const { name, policy } of policies) {
        for (const st of policy.statements) {
          const assumed: string[] | undefined = request.unknown ? [] : undefined;
          const via = statementApplies(st, request, keys, assumed);
          if (via === undefined) continue;
          const ref: StatementRef = { policy: name, index: st.index, sid: st.sid, effect: st.effect, via };
          matched.push(assumed?.length ? { ...ref, assumed } : ref);
        }
      }
    });
  } catch (err) {
    if (err instanceof WorkBudgetExceeded) return { decision: 'Deny', matched, overBudget: true };
    throw err;
  }
  const decision: Decision = matched.some((m) => m.effect === 'Deny')
    ? 'Deny'
    : matched.some((m) => m.effect === 'Allow')
      ? 'Allow'
      : 'ImplicitDeny';
  return { decision, matched };
}
