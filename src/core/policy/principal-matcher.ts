import { PolicyError, quote } from './policy-error.js';
import { RequestPrincipal } from './request.js';

/**
 * The Principal and NotPrincipal elements of resource-based and trust policies.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 *
 * How a caller is named:
 * - `any`: by "*" or {"AWS": "*"} (everyone, anonymous callers included);
 * - `principal`: by its own ARN, its role's ARN (for a role session), its service or provider name — or,
 *   for the account's root user, by the account;
 * - `account`: only through its account ("111122223333" or arn:aws:iam::111122223333:root). That does not
 *   name the caller: it delegates to the account, whose identity-based policies must then allow too.
 */
export type PrincipalMatch = 'any' | 'principal' | 'account';

export interface PrincipalMatcher {
  /** How the element names the caller, or undefined if it does not. */
  match(caller: RequestPrincipal): PrincipalMatch | undefined;
  /**
   * Whether NotPrincipal exempts the caller. A principal is only exempt when both it and its account are
   * listed: "When you use NotPrincipal, you must also specify the account ARN of the not-denied principal.
   * Otherwise, the policy might deny access to the entire account containing the principal."
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
   */
  exempts(caller: RequestPrincipal): boolean;
}

const PRINCIPAL_KEYS = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const ACCOUNT_ID = /^\d{12}$/;
const AWS_PRINCIPAL_ARN = /^arn:[a-z][a-z-]*:(iam|sts)::(\d{12}):(.+)$/;

export function compilePrincipal(raw: unknown, path: string): PrincipalMatcher {
  if (raw === '*') return ANYONE;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0) {
    throw new PolicyError(path, 'must be "*" or an object with AWS, Service, Federated or CanonicalUser');
  }
  const named = { arns: new Set<string>(), accounts: new Set<string>(), services: new Set<string>(), federated: new Set<string>(), canonical: new Set<string>() };
  let any = false;
  for (const [type, value] of Object.entries(raw as Record<string, unknown>)) {
    const typePath = `${path}.${type}`;
    if (!PRINCIPAL_KEYS.has(type)) throw new PolicyError(path, `has an unknown principal type ${quote(type)}`);
    for (const v of principalValues(value, typePath)) {
      if (v === '*' && type === 'AWS') {
        any = true;
        continue;
      }
      // "You cannot use a wildcard to match part of a principal name or ARN."
      if (v.includes('*') || v.includes('?')) throw new PolicyError(typePath, `value ${quote(v)} uses a wildcard; only "*" alone is allowed`);
      if (type === 'AWS') addAwsPrincipal(v, named, typePath);
      else if (type === 'Service') named.services.add(v);
      else if (type === 'Federated') named.federated.add(v);
      else named.canonical.add(v);
    }
  }
  if (any) return ANYONE;
  const { arns, accounts, services, federated, canonical } = named;
  const namesSelf = (c: RequestPrincipal) =>
    arns.has(c.arn) || (c.roleArn !== undefined && arns.has(c.roleArn)) || (c.canonicalUserId !== undefined && canonical.has(c.canonicalUserId));
  const namesAccount = (c: RequestPrincipal) => c.accountId !== undefined && accounts.has(c.accountId);
  const match = (c: RequestPrincipal): PrincipalMatch | undefined => {
    if (c.type === 'Service') return services.has(c.arn) ? 'principal' : undefined;
    if (c.type === 'WebIdentity' || c.type === 'SAML') {
      return c.federatedProvider !== undefined && federated.has(c.federatedProvider) ? 'principal' : undefined;
    }
    if (namesSelf(c)) return 'principal';
    if (namesAccount(c)) return c.type === 'Root' ? 'principal' : 'account';
    return undefined;
  };
  const exempts = (c: RequestPrincipal): boolean => {
    if (c.type === 'Service' || c.type === 'WebIdentity' || c.type === 'SAML') return match(c) !== undefined;
    return namesAccount(c) && (c.type === 'Root' || namesSelf(c));
  };
  return { match, exempts };
}

const ANYONE: PrincipalMatcher = { match: () => 'any', exempts: () => true };

/**
 * An AWS principal: an account id (which means arn:aws:iam::<id>:root), the account's root ARN, or the ARN
 * of a user, role, assumed-role session or federated user.
 */
function addAwsPrincipal(v: string, named: { arns: Set<string>; accounts: Set<string> }, path: string): void {
  if (ACCOUNT_ID.test(v)) {
    named.accounts.add(v);
    return;
  }
  const m = AWS_PRINCIPAL_ARN.exec(v);
  if (!m) throw new PolicyError(path, `value ${quote(v)} is not an account id or an IAM/STS principal ARN`);
  if (m[1] === 'iam' && m[3] === 'root') named.accounts.add(m[2]!);
  else named.arns.add(v);
}

function principalValues(value: unknown, path: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new PolicyError(path, 'must name at least one principal');
  return list.map((v, i) => {
    if (typeof v !== 'string' || v === '') throw new PolicyError(Array.isArray(value) ? `${path}[${i}]` : path, 'must be a non-empty string');
    return v;
  });
}
