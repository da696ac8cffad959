import { grantConditionContext } from '../../../core/kms/grant-request.js';
import { KeyRecord } from '../../../store/metadata/types.js';
import { onKey, defineKmsOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_RevokeGrant.html — needs kms:RevokeGrant on the key
 * (key ID or key ARN; kms:GrantIsForAWSResource is set). A malformed grant id is InvalidGrantIdException, one
 * not on the key NotFoundException. Every key state allows it.
 */
export const RevokeGrant = defineKmsOperation<{ KeyId: string; GrantId: string }, KeyRecord>({
  name: 'RevokeGrant',
  action: 'kms:RevokeGrant',
  crossAccount: true,
  readOnly: false,
  resolve: async (input, call) => {
    const key = await call.kms.resolver.resolve(call.scope, input.KeyId, { aliases: false });
    return { access: [onKey(key, 'kms:RevokeGrant', { conditions: grantConditionContext({}, call.request) })], state: key };
  },
  handle: async (input, call, key) => {
    await call.kms.grants.revoke(key, input.GrantId);
    return {};
  },
});
