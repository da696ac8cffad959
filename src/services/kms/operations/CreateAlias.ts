import { aliasArn } from '../../../core/kms/arn.js';
import { checkAliasName } from '../../../core/kms/aliases.js';
import { KeyRecord } from '../../../store/metadata/types.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onKey } from '../call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
 * Needs kms:CreateAlias on the alias and on the key; TargetKeyId is a key id or key ARN.
 */
export const CreateAlias = defineOperation<KmsCall, { AliasName: string; TargetKeyId: string }, KeyRecord>({
  name: 'CreateAlias',
  action: 'kms:CreateAlias',
  readOnly: false,
  resolve: async (input, call) => {
    checkAliasName(input.AliasName);
    const key = await call.kms.resolver.resolve(call.scope, input.TargetKeyId, { aliases: false });
    const alias = aliasArn(call.scope.region, call.scope.accountId, input.AliasName);
    return {
      access: [{ action: 'kms:CreateAlias', resource: alias, ownerAccountId: call.scope.accountId }, onKey(key, 'kms:CreateAlias')],
      state: key,
    };
  },
  handle: async (input, call, key) => {
    await call.kms.aliases.create(call.scope, input.AliasName, key);
    return {};
  },
});
