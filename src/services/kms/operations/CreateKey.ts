import { randomUUID } from 'node:crypto';
import { needs } from '../../../core/errors/aws-error.js';
import { KmsErrors } from '../../../core/errors/kms.js';
import { keyArn } from '../../../core/kms/arn.js';
import { checkKeyPolicy } from '../../../core/kms/policy-document.js';
import { Tag } from '../../../store/metadata/types.js';
import { needsNoLockout } from '../lockout.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { keyMetadata } from '../key-metadata.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html */
interface Input {
  Description?: string;
  Policy?: string;
  Tags?: Tag[];
  KeySpec?: string;
  CustomerMasterKeySpec?: string;
  KeyUsage?: string;
  Origin?: string;
  MultiRegion?: boolean;
  CustomKeyStoreId?: string;
  XksKeyId?: string;
  BypassPolicyLockoutSafetyCheck?: boolean;
}

export const CreateKey = defineOperation<KmsCall, Input, undefined>({
  name: 'CreateKey',
  action: 'kms:CreateKey',
  readOnly: false,
  resolve: async () => ({ access: [onAccount('kms:CreateKey')], state: undefined }),
  handle: async (input, call) => {
    const spec = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
    needs(spec === 'SYMMETRIC_DEFAULT', KmsErrors.UnsupportedOperationException, `KeySpec ${spec} is not supported yet; use SYMMETRIC_DEFAULT.`);
    needs(
      (input.KeyUsage ?? 'ENCRYPT_DECRYPT') === 'ENCRYPT_DECRYPT',
      KmsErrors.UnsupportedOperationException,
      `KeyUsage ${input.KeyUsage} is not supported for SYMMETRIC_DEFAULT keys.`,
    );
    needs((input.Origin ?? 'AWS_KMS') === 'AWS_KMS', KmsErrors.UnsupportedOperationException, `Origin ${input.Origin} is not supported yet.`);
    needs(input.MultiRegion !== true, KmsErrors.UnsupportedOperationException, 'Multi-Region keys are not supported yet.');
    needs(
      input.CustomKeyStoreId === undefined && input.XksKeyId === undefined,
      KmsErrors.CustomKeyStoreNotFoundException,
      'Custom key stores are not supported.',
    );
    // The key id is drawn first so that the lockout check sees the key's real ARN.
    const keyId = randomUUID();
    if (input.Policy !== undefined) {
      checkKeyPolicy(input.Policy);
      await needsNoLockout(call, input.Policy, keyArn(call.scope.region, call.scope.accountId, keyId), input.BypassPolicyLockoutSafetyCheck);
    }
    const key = await call.kms.keys.create(call.scope, {
      keyId,
      ...(input.Description !== undefined ? { description: input.Description } : {}),
      ...(input.Policy !== undefined ? { policy: input.Policy } : {}),
      ...(input.Tags !== undefined ? { tags: input.Tags } : {}),
    });
    return { KeyMetadata: keyMetadata(key) };
  },
});
