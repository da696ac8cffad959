import { VariableScope } from './variables.js';
import { WorkMeter } from './work-budget.js';

/**
 * What a policy is asked about: who, doing what, to which resource, in which request context.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-reqcontext
 */
export type PrincipalType =
  | 'Root'
  | 'IAMUser'
  | 'AssumedRole'
  | 'FederatedUser'
  | 'Service'
  | 'WebIdentity'
  | 'SAML'
  | 'Anonymous';

/** The caller. core/identity's `Principal` is one of these. */
export interface RequestPrincipal {
  readonly type: PrincipalType;
  /**
   * arn:aws:iam::111122223333:root, …:user/alice, arn:aws:sts::111122223333:assumed-role/R/session;
   * for a service principal, the service's name (logs.us-east-1.amazonaws.com).
   */
  readonly arn: string;
  /** Absent for service principals and anonymous callers. */
  readonly accountId?: string;
  /** For a role session: the role's ARN, which a Principal element may name instead of the session. */
  readonly roleArn?: string;
  /** For WebIdentity/SAML callers: the identity provider, as a Federated principal names it. */
  readonly federatedProvider?: string;
  /** S3's canonical user id, as a CanonicalUser principal names it. */
  readonly canonicalUserId?: string;
  readonly principalId?: string;
  readonly userName?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** A condition key's value in the request: one string, a set of strings, or absent. */
export type ContextValue = string | readonly string[] | undefined;
export type RequestContext = ReadonlyMap<string, ContextValue> | Readonly<Record<string, ContextValue>>;

/**
 * Condition keys whose value the asker does not know (`explain` without --source-ip, …). A condition on one
 * of them is neither true nor false: evaluation assumes it whichever way `assume` leans — 'allow' makes
 * such Allow statements apply and such Deny statements not, 'deny' the reverse — so the two answers bound
 * every answer the unknown values could give (policies are monotone: more Allows never deny, more Denies
 * never allow). Keys are lower-case.
 */
export interface UnknownKeys {
  readonly keys: ReadonlySet<string>;
  readonly assume: 'allow' | 'deny';
}

export interface PolicyRequest {
  readonly principal: RequestPrincipal;
  /** service:Action, e.g. kms:Decrypt. */
  readonly action: string;
  /** The resource's ARN. */
  readonly resource: string;
  /** Condition keys (aws:SourceIp, kms:EncryptionContext:Department, …); names are case-insensitive. */
  readonly context?: RequestContext;
  /** Only for explanations: keys whose value is not known (see UnknownKeys). */
  readonly unknown?: UnknownKeys;
}

/**
 * The request's condition keys, folded to lower case once per request ("Condition key names are not
 * case-sensitive"), with the keys AWS derives from the principal filled in unless the caller gave them:
 * aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid, aws:username, aws:PrincipalTag/*.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 * The fold happens on the first lookup: most requests meet only statements without conditions or
 * variables (a default key policy), and those never ask.
 */
export class ContextKeys implements VariableScope {
  #map: Map<string, readonly string[]> | undefined;
  /** The request's evaluation work budget, shared by every policy set evaluated for it (work-budget.ts). */
  readonly meter = new WorkMeter();

  private constructor(private readonly request: PolicyRequest) {}

  static of(request: PolicyRequest): ContextKeys {
    return new ContextKeys(request);
  }

  values(lowerCaseKey: string): readonly string[] | undefined {
    this.#map ??= fold(this.request);
    return this.#map.get(lowerCaseKey);
  }
}

function fold(request: PolicyRequest): Map<string, readonly string[]> {
  const map = new Map<string, readonly string[]>();
  const set = (key: string, value: ContextValue): void => {
    if (value === undefined) map.delete(key.toLowerCase());
    else map.set(key.toLowerCase(), typeof value === 'string' ? [value] : [...value]);
  };
  const p = request.principal;
  const principalArn = p.type === 'AssumedRole' && p.roleArn !== undefined ? p.roleArn : p.arn;
  if (p.type !== 'Anonymous') set('aws:PrincipalArn', principalArn);
  if (p.accountId !== undefined) set('aws:PrincipalAccount', p.accountId);
  set('aws:PrincipalType', PRINCIPAL_TYPE[p.type]);
  // aws:userid is the account id for the root user and the unique id otherwise.
  set('aws:userid', p.type === 'Root' ? p.accountId : p.principalId);
  if (p.type === 'IAMUser') set('aws:username', p.userName);
  for (const [k, v] of Object.entries(p.tags ?? {})) set(`aws:PrincipalTag/${k}`, v);
  const context = request.context;
  if (context !== undefined) {
    const entries = isMap(context) ? context.entries() : Object.entries(context);
    for (const [k, v] of entries) set(k, v);
  }
  return map;
}

/** Values of aws:PrincipalType. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable */
const PRINCIPAL_TYPE: Readonly<Record<PrincipalType, string | undefined>> = {
  Root: 'Account',
  IAMUser: 'User',
  AssumedRole: 'AssumedRole',
  FederatedUser: 'FederatedUser',
  Service: undefined,
  WebIdentity: undefined,
  SAML: undefined,
  Anonymous: 'Anonymous',
};

function isMap(c: RequestContext): c is ReadonlyMap<string, ContextValue> {
  return c instanceof Map;
}
