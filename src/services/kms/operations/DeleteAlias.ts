import { AwsError } from '../../../core/errors/aws-error.js';
import { KmsErrors } from '../../../core/errors/kms.js';
import { needsNotReserved } from '../../../core/kms/aliases.js';
import { aliasArn } from '../../../core/kms/arn.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onKey } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteAlias.html — kms:DeleteAlias on alias and key. */
export const DeleteAlias = defineOperation<KmsCall, { AliasName: string }, undefined>({
  name: 'DeleteAlias',
  action: 'kms:DeleteAlias',
  readOnly: false,
  resolve: async (input, call) => {
    needsNotReserved(input.AliasName);
    const arn = aliasArn(call.scope.region, call.scope.accountId, input.AliasName);
    const alias = await call.kms.aliases.get(call.scope, input.AliasName);
    if (!alias) throw new AwsError(KmsErrors.NotFoundException, `Alias ${arn} is not found.`);
    const key = await call.kms.resolver.resolve(call.scope, alias.targetKeyId, { aliases: false });
    return {
      access: [{ action: 'kms:DeleteAlias', resource: arn, ownerAccountId: call.scope.accountId }, onKey(key, 'kms:DeleteAlias')],
      state: undefined,
    };
  },
  handle: async (input, call) => {
    await call.kms.aliases.delete(call.scope, input.AliasName);
    return {};
  },
});
