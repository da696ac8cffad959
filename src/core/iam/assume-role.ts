import { Principal } from '../identity/principal.js';
import { CompiledPolicy, ContextKeys, ContextValue, NamedPolicy, PolicyRequest, evaluate } from '../policy/index.js';

/**
 * Whether `caller` may assume a role, by the role's trust policy and the caller's identity-based policies:
 * - an explicit Deny in either denies;
 * - the trust policy names the caller itself (its user or role ARN, its session, "*") and the role is in
 *   the caller's account: allowed, no identity policy needed;
 * - the trust policy trusts the caller's account (arn:aws:iam::<account>:root), or the role is in another
 *   account: the caller's identity-based policies must allow sts:AssumeRole on the role too.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 */
export interface AssumeRoleQuestion {
  readonly caller: Principal;
  readonly roleArn: string;
  readonly roleAccountId: string;
  readonly trustPolicy: CompiledPolicy;
  readonly identityPolicies: readonly NamedPolicy[];
  readonly context: Readonly<Record<string, ContextValue>>;
}

export const ASSUME_ROLE_ACTION = 'sts:AssumeRole';

export function mayAssumeRole(q: AssumeRoleQuestion): boolean {
  const request: PolicyRequest = { principal: q.caller, action: ASSUME_ROLE_ACTION, resource: q.roleArn, context: q.context };
  const keys = ContextKeys.of(request);
  const trust = evaluate([{ name: 'trust policy', policy: q.trustPolicy }], request, keys);
  const identity = evaluate(q.identityPolicies, request, keys);
  if (trust.decision === 'Deny' || identity.decision === 'Deny') return false;
  const allows = trust.matched.filter((m) => m.effect === 'Allow');
  const direct = allows.some((m) => m.via !== 'account');
  const delegated = allows.some((m) => m.via === 'account');
  if (direct && q.caller.accountId === q.roleAccountId) return true;
  return (direct || delegated) && identity.decision === 'Allow';
}
