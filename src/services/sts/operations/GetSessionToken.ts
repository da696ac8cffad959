import { AwsError } from '../../../core/errors/aws-error.js';
import { QueryErrors } from '../../../core/errors/query.js';
import { defineOperation } from '../../operation.js';
import { StsAccess, StsCall } from '../call.js';
import { noMfa } from '../unsupported.js';

/** The root user's sessions last at most an hour; an IAM user's 15 minutes to 36 hours, 12 by default. */
const ROOT_MAX_S = 3600;
const USER_DEFAULT_S = 43_200;

/**
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html — temporary credentials
 * for the calling user (or root), acting as that user. It must be called with long-term credentials.
 * "Sessions for AWS account owners are restricted to a maximum of 3,600 seconds (one hour). If the
 * duration is longer than one hour, the session for AWS account owners defaults to one hour."
 */
export const GetSessionToken = defineOperation<StsCall, { DurationSeconds?: number; SerialNumber?: string; TokenCode?: string }, undefined, StsAccess>({
  name: 'GetSessionToken',
  action: 'sts:GetSessionToken',
  readOnly: false,
  resolve: async () => ({ access: [], state: undefined }),
  handle: async (input, call) => {
    const p = call.request.principal;
    if (p.type === 'AssumedRole' || p.sessionExpiresAt !== undefined) {
      throw new AwsError(QueryErrors.AccessDenied, 'Cannot call GetSessionToken with session credentials');
    }
    noMfa(input.SerialNumber, input.TokenCode);
    const requested = input.DurationSeconds ?? (p.type === 'Root' ? ROOT_MAX_S : USER_DEFAULT_S);
    const duration = p.type === 'Root' ? Math.min(requested, ROOT_MAX_S) : requested;
    const credentials = await call.sessions.issue(
      {
        accountId: p.accountId,
        principalType: p.type,
        principalArn: p.arn,
        principalId: p.principalId,
        ...(p.userName !== undefined ? { userName: p.userName } : {}),
      },
      duration,
    );
    return { Credentials: credentials };
  },
});
