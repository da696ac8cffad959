import { iamArn } from '../../../core/iam/ids.js';
import { notFound } from '../../../core/iam/failures.js';
import { rootArn } from '../../../core/identity/principal.js';
import { IamUserRecord } from '../../../store/metadata/iam-types.js';
import { defineOperation } from '../../operation.js';
import { IamCall, mustNameUser, onResource } from '../call.js';
import { userShape } from '../output.js';

type State = { user: IamUserRecord | undefined; name: string } | { root: true };

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUser.html — without UserName, the caller:
 * its own user, or for the root user the account (UserId = account id, Arn = the root ARN, no name or path).
 */
export const GetUser = defineOperation<IamCall, { UserName?: string }, State>({
  name: 'GetUser',
  action: 'iam:GetUser',
  readOnly: true,
  resolve: async (input, call) => {
    const p = call.request.principal;
    if (input.UserName === undefined && p.type === 'Root') return { access: [onResource('GetUser', rootArn(call.accountId))], state: { root: true } };
    const name = input.UserName ?? (p.type === 'IAMUser' ? p.userName : undefined);
    if (name === undefined) throw mustNameUser();
    const user = await call.iam.users.find(call.accountId, name);
    return { access: [onResource('GetUser', user?.arn ?? iamArn(call.accountId, 'user', '/', name))], state: { user, name } };
  },
  handle: async (_input, call, state) => {
    if ('root' in state) {
      const account = await call.iam.accounts.getAccount(call.accountId);
      return { User: { UserId: call.accountId, Arn: rootArn(call.accountId), CreateDate: new Date(account?.createdAt ?? 0) } };
    }
    if (!state.user) throw notFound('user', state.name);
    return { User: userShape(state.user, true) };
  },
});
