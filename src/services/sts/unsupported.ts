import { AwsError } from '../../core/errors/aws-error.js';
import { QueryErrors } from '../../core/errors/query.js';

/**
 * This server has no MFA devices, so no one-time code can be valid: AWS's answer to a wrong code.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_configure-api-require.html
 */
export function noMfa(serialNumber: string | undefined, tokenCode: string | undefined): void {
  if (serialNumber !== undefined || tokenCode !== undefined) {
    throw new AwsError(QueryErrors.AccessDenied, 'MultiFactorAuthentication failed with invalid MFA one time pass code.');
  }
}

/**
 * Session policies and session tags narrow or label a session; this server does not evaluate them, and
 * ignoring them would give the session more than its caller asked for, so they are refused.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
 */
export function noSessionPolicies(input: { Policy?: string; PolicyArns?: unknown[]; Tags?: unknown[]; TransitiveTagKeys?: unknown[]; ProvidedContexts?: unknown[] }): void {
  for (const member of ['Policy', 'PolicyArns', 'Tags', 'TransitiveTagKeys', 'ProvidedContexts'] as const) {
    if (input[member] !== undefined) throw new AwsError(QueryErrors.ValidationError, `${member} is not supported by this server.`);
  }
}
