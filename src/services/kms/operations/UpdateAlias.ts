import { AwsError } from '../../../core/errors/aws-error.js';
import { KmsErrors } from '../../../core/errors/kms.js';
import { needsNotReserved } from '../../../core/kms/aliases.js';
import { aliasArn } from '../../../core/kms/arn.js';
import { KeyRecord } from '../../../store/metadata/types.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onKey } from '../call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateAlias.html
 * Needs kms:UpdateAlias on the alias, on the key it points to now and on the new target key.
 */
export const UpdateAlias = defineOperation<KmsCall, { AliasName: string; TargetKeyId: string }, KeyRecord>({
  name: 'UpdateAlias',
  action: 'kms:UpdateAlias',
  readOnly: false,
  resolve: async (input, call) => {
    needsNotReserved(input.AliasName);
    const arn = aliasArn(call.scope.region, call.scope.accountId, input.AliasName);
    const alias = await call.kms.aliases.get(call.scope, input.AliasName);
    if (!alias) throw new AwsError(KmsErrors.NotFoundException, `Alias ${arn} is not found.`);
    const current = await call.kms.resolver.resolve(call.scope, alias.targetKeyId, { aliases: false });
    const target = await call.kms.resolver.resolve(call.scope, input.TargetKeyId, { aliases: false });
    return {
      access: [
        { action: 'kms:UpdateAlias', resource: arn, ownerAccountId: call.scope.accountId },
        onKey(current, 'kms:UpdateAlias'),
        onKey(target, 'kms:UpdateAlias'),
      ],
      state: target,
    };
  },
  handle: async (input, call, target) => {
    await call.kms.aliases.update(call.scope, input.AliasName, target);
    return {};
  },
});
