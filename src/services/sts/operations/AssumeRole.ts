import { AwsError } from '../../../core/errors/aws-error.js';
import { QueryErrors } from '../../../core/errors/query.js';
import { assumedRoleArn, parseRoleArn } from '../../../core/iam/ids.js';
import { IamRoleRecord } from '../../../store/metadata/iam-types.js';
import { defineOperation } from '../../operation.js';
import { StsAccess, StsCall } from '../call.js';
import { noMfa, noSessionPolicies } from '../unsupported.js';

/** Role chaining (a role session assuming a role) is limited to one hour. */
const CHAINED_MAX_S = 3600;
const DEFAULT_S = 3600;

interface Input {
  RoleArn: string;
  RoleSessionName: string;
  DurationSeconds?: number;
  ExternalId?: string;
  SourceIdentity?: string;
  SerialNumber?: string;
  TokenCode?: string;
  Policy?: string;
  PolicyArns?: unknown[];
  Tags?: unknown[];
  TransitiveTagKeys?: unknown[];
  ProvidedContexts?: unknown[];
}

/**
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html — temporary credentials for a
 * role session. Whether the caller may (the trust policy, and the caller's identity policies) is decided
 * by the STS authorizer with the role `resolve` found; an unknown role is denied like a forbidden one.
 * DurationSeconds: 900 to the role's MaxSessionDuration (one hour by default; at most one hour when chaining).
 */
export const AssumeRole = defineOperation<StsCall, Input, IamRoleRecord | undefined, StsAccess>({
  name: 'AssumeRole',
  action: 'sts:AssumeRole',
  readOnly: false,
  resolve: async (input, call) => {
    noSessionPolicies(input);
    noMfa(input.SerialNumber, input.TokenCode);
    const named = parseRoleArn(input.RoleArn);
    if (!named) throw new AwsError(QueryErrors.ValidationError, `${input.RoleArn.slice(0, 256)} is not a valid role ARN.`);
    const found = await call.iam.roles.find(named.accountId, named.roleName);
    // The ARN must be the role's own (path included), not merely name a role of that name.
    const role = found && found.arn === input.RoleArn ? found : undefined;
    // Only an existing role's account is its owner (and gets a copy of the record): AWS does not tell an
    // account of attempts on roles it does not have.
    return { access: [{ action: 'sts:AssumeRole', resource: input.RoleArn, ...(role ? { ownerAccountId: named.accountId } : {}), role: { record: role } }], state: role };
  },
  handle: async (input, call, role) => {
    const caller = call.request.principal;
    const duration = input.DurationSeconds ?? DEFAULT_S;
    if (caller.type === 'AssumedRole' && duration > CHAINED_MAX_S) {
      throw new AwsError(QueryErrors.ValidationError, 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    }
    if (duration > role!.maxSessionDuration) {
      throw new AwsError(QueryErrors.ValidationError, 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    const r = role!;
    const arn = assumedRoleArn(r.accountId, r.roleName, input.RoleSessionName);
    const assumedRoleId = `${r.roleId}:${input.RoleSessionName}`;
    const credentials = await call.sessions.issue(
      { accountId: r.accountId, principalType: 'AssumedRole', principalArn: arn, principalId: assumedRoleId, roleArn: r.arn, sessionName: input.RoleSessionName },
      duration,
    );
    return {
      Credentials: credentials,
      AssumedRoleUser: { AssumedRoleId: assumedRoleId, Arn: arn },
      ...(input.SourceIdentity !== undefined ? { SourceIdentity: input.SourceIdentity } : {}),
    };
  },
});
