import { randomUUID } from 'node:crypto';
import { needs } from '../../../core/errors/aws-error.js';
import { KmsErrors } from '../../../core/errors/kms.js';
import { keyArn } from '../../../core/kms/arn.js';
import { chooseKeySpec } from '../../../core/kms/key-specs/index.js';
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

/**
 * The key spec and usage are checked before authorization: CreateKey's kms:KeySpec, kms:KeyUsage and
 * kms:KeyOrigin condition keys describe the key it would create
 * (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-key-spec).
 */
export const CreateKey = defineOperation<KmsCall, Input, ReturnType<typeof chooseKeySpec>>({
  name: 'CreateKey',
  action: 'kms:CreateKey',
  readOnly: false,
  resolve: async (input) => {
    const chosen = chooseKeySpec(input);
    const conditions = { 'kms:KeySpec': chosen.rules.spec, 'kms:KeyUsage': chosen.usage, 'kms:KeyOrigin': input.Origin ?? 'AWS_KMS' };
    return { access: [{ ...onAccount('kms:CreateKey'), conditions }], state: chosen };
  },
  handle: async (input, call, { rules, usage }) => {
    const origin = input.Origin ?? 'AWS_KMS';
    // AWS_CLOUDHSM and EXTERNAL_KEY_STORE need a custom key store (CustomKeyStoreId), which is not served.
    needs(
      origin === 'AWS_KMS' || origin === 'EXTERNAL',
      KmsErrors.UnsupportedOperationException,
      `Origin ${origin} requires a custom key store, which is not supported.`,
    );
    needs(
      origin !== 'EXTERNAL' || rules.importable !== undefined,
      KmsErrors.UnsupportedOperationException,
      `KMS keys with KeySpec ${rules.spec} cannot have imported key material (Origin EXTERNAL).`,
    );
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
      keySpec: rules,
      keyUsage: usage,
      origin,
    });
    return { KeyMetadata: keyMetadata(key) };
  },
});
