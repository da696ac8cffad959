import { AwsError } from '../errors/aws-error.js';
import { CommonErrors } from '../errors/common.js';
import { EncryptionContext } from '../crypto/encryption-context.js';
import { Principal } from '../identity/principal.js';
import {
  CompiledPolicy, ContextValue, KmsDecision, NamedPolicy, OVER_BUDGET_REASON, PolicyCache, PolicyRequest, StatementRef, UnknownKeys, accessDeniedMessage, decideKms, evaluate,
  withGrantAllowing,
} from '../policy/index.js';
import { GrantQuery, GrantSource, IdentityPolicySource } from '../policy/sources.js';
import { KeyRecord } from '../../store/metadata/types.js';

/** One authorization question about KMS: may `principal` perform `action` on `resource` (a key, an alias, or '*')? */
export interface KmsAccessQuery {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  /** The key, when the resource is one: its key policy decides, with IAM policies and grants. */
  readonly key?: KeyRecord;
  /** Condition keys of the request (aws:*, kms:*). */
  readonly conditions: Readonly<Record<string, ContextValue>>;
  /** For grant constraints. */
  readonly encryptionContext?: EncryptionContext;
  readonly grantTokens?: readonly string[];
  /** For CreateGrant: the grant it would create (see GrantQuery.createGrant). */
  readonly createGrant?: GrantQuery['createGrant'];
  /** Only for explanations: condition keys whose value is not known. */
  readonly unknown?: UnknownKeys;
}

export interface KmsAccessResult extends Pick<KmsDecision, 'decision' | 'basis' | 'reason'> {
  readonly matched: readonly StatementRef[];
}

/**
 * KMS authorization as AWS does it (https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html):
 * for a key, its key policy (directly, or delegating to the account's IAM policies) or a grant must allow
 * and no policy may deny; for '*' and alias resources, IAM policies alone decide (the root user may do
 * anything in its own account). Policies are compiled once (PolicyCache); grants are only consulted when
 * the policies alone do not allow.
 */
export class KmsAccessControl {
  constructor(
    private readonly identity: IdentityPolicySource,
    private readonly grants: GrantSource,
    /** aws:ResourceTag/* and kms:ResourceAliases of a key: read only when a policy that applies uses them. */
    private readonly resourceFacts?: (key: KeyRecord) => Promise<Record<string, ContextValue>>,
    private readonly policies = new PolicyCache(),
  ) {}

  async decide(q: KmsAccessQuery): Promise<KmsAccessResult> {
    let request: PolicyRequest = { principal: q.principal, action: q.action, resource: q.resource, context: q.conditions, ...(q.unknown ? { unknown: q.unknown } : {}) };
    const identityPolicies = q.principal.type === 'Root' ? [] : await this.identity.policiesFor(q.principal);
    if (!q.key) return this.#identityOnly(request, identityPolicies);
    const keyPolicy: NamedPolicy = { name: 'key policy', policy: this.policies.get(q.key.policy, 'resource') };
    if (this.resourceFacts && (usesResourceFacts(keyPolicy.policy) || identityPolicies.some((p) => usesResourceFacts(p.policy)))) {
      request = { ...request, context: { ...q.conditions, ...(await this.resourceFacts(q.key)) } };
    }
    const first = decideKms({ keyPolicy, identityPolicies, request, keyAccountId: q.key.accountId, grantsAllow: false });
    if (first.decision !== 'ImplicitDeny') return first;
    const grantsAllow = await this.grants.allows({
      key: q.key,
      principal: q.principal,
      operation: q.action.slice('kms:'.length),
      ...(q.encryptionContext ? { encryptionContext: q.encryptionContext } : {}),
      ...(q.grantTokens ? { grantTokens: q.grantTokens } : {}),
      ...(q.createGrant ? { createGrant: q.createGrant } : {}),
    });
    // The same as decideKms({ …, grantsAllow: true }), without evaluating the policies again.
    return grantsAllow ? withGrantAllowing(first) : first;
  }

  /** Throws AccessDeniedException with AWS's message when the answer is not Allow. */
  async authorize(q: KmsAccessQuery): Promise<void> {
    const result = await this.decide(q);
    if (result.decision === 'Allow') return;
    throw new AwsError(
      CommonErrors.AccessDeniedException,
      accessDeniedMessage({ principal: q.principal, action: q.action, resource: q.resource }, result.reason ?? 'because no policy allows it'),
    );
  }

  /**
   * The policy lockout safety check: would `policyJson`, as the key policy of `keyArn`, still let
   * `principal` call PutKeyPolicy? https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#prevent-unmanageable-key
   */
  async keepsPolicyAdmin(principal: Principal, policyJson: string, keyArn: string, keyAccountId: string, conditions: Readonly<Record<string, ContextValue>>): Promise<boolean> {
    const identityPolicies = principal.type === 'Root' ? [] : await this.identity.policiesFor(principal);
    const request: PolicyRequest = { principal, action: 'kms:PutKeyPolicy', resource: keyArn, context: conditions };
    const keyPolicy: NamedPolicy = { name: 'key policy', policy: this.policies.get(policyJson, 'resource') };
    return decideKms({ keyPolicy, identityPolicies, request, keyAccountId, grantsAllow: false }).decision === 'Allow';
  }

  static readonly resourceFactKey = (key: string): boolean => key.startsWith('aws:resourcetag/') || key === 'kms:resourcealiases';

  #identityOnly(request: PolicyRequest, identityPolicies: readonly NamedPolicy[]): KmsAccessResult {
    const result = evaluate(identityPolicies, request);
    if (result.decision === 'Deny') {
      const reason = result.overBudget ? OVER_BUDGET_REASON : 'with an explicit deny in an identity-based policy';
      return { decision: 'Deny', basis: undefined, reason, matched: result.matched };
    }
    const sameAccount = request.principal.accountId !== undefined && request.resource.split(':')[4] === request.principal.accountId;
    if (request.principal.type === 'Root' && (request.resource === '*' || sameAccount)) {
      return { decision: 'Allow', basis: undefined, reason: undefined, matched: result.matched };
    }
    if (result.decision === 'Allow') return { decision: 'Allow', basis: undefined, reason: undefined, matched: result.matched };
    return {
      decision: 'ImplicitDeny',
      basis: undefined,
      reason: `because no identity-based policy allows the ${request.action} action`,
      matched: result.matched,
    };
  }
}

const usesFacts = new WeakMap<CompiledPolicy, boolean>();

/** Whether a policy has a condition on aws:ResourceTag/* or kms:ResourceAliases (memoized per compiled policy). */
function usesResourceFacts(policy: CompiledPolicy): boolean {
  let v = usesFacts.get(policy);
  if (v === undefined) {
    v = policy.statements.some((s) => s.conditions.some((c) => KmsAccessControl.resourceFactKey(c.key.toLowerCase())));
    usesFacts.set(policy, v);
  }
  return v;
}
