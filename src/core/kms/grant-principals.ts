import { needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { PARTITION } from '../identity/principal.js';

/**
 * Grantee and retiring principals. CreateGrant takes "the ARN of an AWS principal. Valid principals include
 * AWS accounts, IAM users, IAM roles, federated users, and assumed role users"; grants made by AWS services
 * name a service principal. Anything else (an IAM group, a bare account id, a malformed ARN) is
 * InvalidArnException. https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html
 * Principals are not checked for existence (IAM is not there yet).
 */
const IAM_PRINCIPAL = new RegExp(`^arn:${PARTITION}:iam::(\\d{12}):(root|user/.+|role/.+)$`);
const STS_PRINCIPAL = new RegExp(`^arn:${PARTITION}:sts::(\\d{12}):(assumed-role/[^/]+/.+|federated-user/.+)$`);
const SERVICE_PRINCIPAL = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$/;
const ASSUMED_ROLE = new RegExp(`^arn:${PARTITION}:sts::(\\d{12}):assumed-role/([^/]+)/.+$`);

export function checkGrantPrincipal(principal: string, member: 'GranteePrincipal' | 'RetiringPrincipal'): void {
  needs(
    IAM_PRINCIPAL.test(principal) || STS_PRINCIPAL.test(principal) || SERVICE_PRINCIPAL.test(principal),
    KmsErrors.InvalidArnException,
    `${member} ${principal} is not a valid AWS principal ARN`,
  );
}

/** The account of an IAM or STS principal ARN; undefined for service principals. */
export function principalAccountId(principal: string): string | undefined {
  return (IAM_PRINCIPAL.exec(principal) ?? STS_PRINCIPAL.exec(principal))?.[1];
}

/** What a grant's GranteePrincipal or RetiringPrincipal may name to mean this caller. */
export interface CallerIdentity {
  readonly arn: string;
  /** For a role session, the role's ARN (with its path) when the identity layer knows it. */
  readonly roleArn?: string;
}

/**
 * The principal ARNs that name the caller in a grant: its own ARN, and for an assumed-role session also its
 * role (a grant to a role is a grant to every session of it, as in a key policy). The role's ARN comes from
 * the identity layer when it has it, otherwise from the session ARN (which does not carry the role's path).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-role-session
 */
export function callerPrincipals(caller: CallerIdentity): readonly string[] {
  const session = ASSUMED_ROLE.exec(caller.arn);
  if (!session) return [caller.arn];
  const role = caller.roleArn ?? `arn:${PARTITION}:iam::${session[1]}:role/${session[2]}`;
  return role === caller.arn ? [caller.arn] : [caller.arn, role];
}
