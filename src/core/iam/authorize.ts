import { AwsError, ErrorSpec } from '../errors/aws-error.js';
import { Principal } from '../identity/principal.js';
import { ContextValue, NamedPolicy, OVER_BUDGET_REASON, PolicyRequest, evaluate } from '../policy/index.js';
import { IdentityPolicySource } from '../policy/sources.js';

/**
 * Authorization of IAM and STS actions, which have no resource-based policies (trust policies aside):
 * the account's root user may do anything in its own account; IAM users and role sessions need an
 * identity-based policy that allows the action on the resource, and no explicit Deny.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * The AccessDenied message is AWS's: "User: <arn> is not authorized to perform: iam:CreateUser on
 * resource: <arn> because no identity-based policy allows the iam:CreateUser action".
 */
export interface IdentityAccess {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, ContextValue>>;
}

export async function authorizeByIdentity(source: IdentityPolicySource, q: IdentityAccess, accessDenied: ErrorSpec): Promise<void> {
  const reason = denialReason(await source.policiesFor(q.principal), q);
  if (reason !== undefined) {
    throw new AwsError(accessDenied, `User: ${q.principal.arn} is not authorized to perform: ${q.action} on resource: ${q.resource} ${reason}`);
  }
}

/** Why the request is denied, or undefined when it is allowed. */
export function denialReason(policies: readonly NamedPolicy[], q: IdentityAccess): string | undefined {
  // These resources have no resource-based policies, so no other account's policy can open them. An ARN with an
  // empty account field (an EC2 snapshot's: arn:aws:ec2:<region>::snapshot/<id>) names a resource the service
  // looks up in the caller's own account only.
  const owner = resourceAccount(q.resource);
  if (q.resource !== '*' && owner !== '' && owner !== q.principal.accountId) return `because no resource-based policy allows the ${q.action} action`;
  const request: PolicyRequest = { principal: q.principal, action: q.action, resource: q.resource, context: q.context };
  const result = evaluate(policies, request);
  if (result.overBudget) return OVER_BUDGET_REASON;
  if (result.decision === 'Deny') return 'with an explicit deny in an identity-based policy';
  if (q.principal.type === 'Root') return undefined;
  if (result.decision === 'Allow') return undefined;
  return `because no identity-based policy allows the ${q.action} action`;
}

/** The account field of an ARN. */
function resourceAccount(arn: string): string | undefined {
  return arn.split(':')[4];
}
