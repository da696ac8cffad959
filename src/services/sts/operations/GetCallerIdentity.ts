import { defineOperation } from '../../operation.js';
import { StsAccess, StsCall } from '../call.js';

/**
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html — "No permissions are
 * required to perform this operation": even an explicit Deny does not stop it.
 */
export const GetCallerIdentity = defineOperation<StsCall, Record<string, never>, undefined, StsAccess>({
  name: 'GetCallerIdentity',
  action: 'sts:GetCallerIdentity',
  readOnly: true,
  resolve: async () => ({ access: [], state: undefined }),
  handle: async (_input, call) => {
    const p = call.request.principal;
    return { UserId: p.principalId, Account: p.accountId, Arn: p.arn };
  },
});
