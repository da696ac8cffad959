import { Decision, NamedPolicy, OVER_BUDGET_REASON, StatementRef, evaluate } from './evaluate.js';
import { ContextKeys, PolicyRequest } from './request.js';

/**
 * Whether a KMS request is allowed, by the key policy, the caller's IAM policies and grants.
 * https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
 *
 * - An explicit Deny in the key policy or in an identity-based policy denies; grants cannot override it.
 * - The key policy allows the caller directly (its ARN, its role, "*", or — for the account's root user —
 *   its account): allowed. Across accounts the caller's own identity-based policies must allow as well.
 * - The key policy allows only the caller's account (its root): that enables IAM policies, it does not
 *   allow anyone by itself; allowed if the caller's identity-based policies allow.
 * - A grant allows.
 */
export interface KmsAccessInput {
  readonly keyPolicy: NamedPolicy;
  /** The caller's identity-based policies (user, group and role policies, managed and inline). */
  readonly identityPolicies: readonly NamedPolicy[];
  /** Whether a grant on the key gives the caller this operation (grants are evaluated by the caller). */
  readonly grantsAllow: boolean;
  readonly request: PolicyRequest;
  /** The account that owns the key; by default the account field of `request.resource`. */
  readonly keyAccountId?: string;
}

export type KmsAllowBasis = 'key-policy' | 'key-policy-and-identity-policy' | 'grant';

export interface KmsDecision {
  readonly decision: Decision;
  /** How an Allow was reached. */
  readonly basis: KmsAllowBasis | undefined;
  /**
   * Why not, as AWS words the tail of AccessDeniedException's message: "because no resource-based policy
   * allows the kms:Decrypt action", "with an explicit deny in an identity-based policy", …
   */
  readonly reason: string | undefined;
  /** Applicable statements of the key policy, then of the identity policies. */
  readonly matched: readonly StatementRef[];
}

export function decideKms(input: KmsAccessInput): KmsDecision {
  const { request } = input;
  const keys = ContextKeys.of(request);
  const key = evaluate([input.keyPolicy], request, keys);
  const identity = evaluate(input.identityPolicies, request, keys);
  const matched = [...key.matched, ...identity.matched];
  const deny = (reason: string): KmsDecision => ({ decision: 'Deny', basis: undefined, reason, matched });
  const allow = (basis: KmsAllowBasis): KmsDecision => ({ decision: 'Allow', basis, reason: undefined, matched });

  if (key.overBudget || identity.overBudget) return deny(OVER_BUDGET_REASON);
  if (key.decision === 'Deny') return deny('with an explicit deny in a resource-based policy');
  if (identity.decision === 'Deny') return deny('with an explicit deny in an identity-based policy');

  const { principal } = request;
  const keyAccount = input.keyAccountId ?? arnAccount(request.resource);
  const allows = key.matched.filter((m) => m.effect === 'Allow');
  const direct = allows.some((m) => m.via !== 'account');
  const delegated = allows.some((m) => m.via === 'account');
  // The root user has every permission in its own account without IAM policies; service principals
  // have no IAM policies at all.
  const identityAllows = identity.decision === 'Allow' || principal.type === 'Root';
  const needsIdentity = principal.type !== 'Service' && (principal.accountId === undefined || principal.accountId !== keyAccount);

  if (direct && !needsIdentity) return allow('key-policy');
  if ((direct || delegated) && identityAllows) return allow('key-policy-and-identity-policy');
  if (input.grantsAllow) return allow('grant');
  const missing = direct || delegated ? 'identity-based' : 'resource-based';
  return { decision: 'ImplicitDeny', basis: undefined, reason: `because no ${missing} policy allows the ${request.action} action`, matched };
}

/**
 * What decideKms answers with `grantsAllow: true`, given its answer for the same input with `grantsAllow:
 * false`: a grant turns an implicit deny into an Allow on the basis of the grant (same statements matched),
 * and changes nothing else. Lets a caller that consults grants only after an implicit deny skip evaluating
 * the policies a second time.
 */
export function withGrantAllowing(withoutGrants: KmsDecision): KmsDecision {
  if (withoutGrants.decision !== 'ImplicitDeny') return withoutGrants;
  return { decision: 'Allow', basis: 'grant', reason: undefined, matched: withoutGrants.matched };
}

/** "User: <arn> is not authorized to perform: kms:Decrypt on resource: <key arn> because …" */
export function accessDeniedMessage(request: PolicyRequest, reason: string): string {
  return `User: ${request.principal.arn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${reason}`;
}

/** The account id field (the fifth) of an ARN, or undefined. */
function arnAccount(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length >= 6 && parts[0] === 'arn' && parts[4] !== '' ? parts[4] : undefined;
}
