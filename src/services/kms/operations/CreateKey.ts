import { needs } from '../../../core/errors/aws-error.js';
import { KmsErrors } from '../../../core/errors/kms.js';
import { keyArn } from '../../../core/kms/arn.js';
import { chooseKeySpec } from '../../../core/kms/key-specs/index.js';
import { newKeyId } from '../../../core/kms/keys.js';
import { checkKeyPolicy } from '../../../core/kms/policy-document.js';
import { Tag } from '../../../store/metadata/types.js';
import { needsNoLockout } from '../lockout.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { keyMetadata } from '../key-metadata.js';
import { CommonErrors } from '../../../core/errors/common.js';
import { customKeyStores, xksCaller } from '../custom-key-store-call.js';
import { multiRegionConditions } from '../conditions.js';

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
    const conditions = {
      'kms:KeySpec': chosen.rules.spec,
      'kms:KeyUsage': chosen.usage,
      'kms:KeyOrigin': input.Origin ?? 'AWS_KMS',
      // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-multiregion
      ...multiRegionConditions(input.MultiRegion === true ? 'PRIMARY' : undefined),
    };
    return { access: [{ ...onAccount('kms:CreateKey'), conditions }], state: chosen };
  },
  handle: async (input, call, { rules, usage }) => {
    const origin = input.Origin ?? 'AWS_KMS';
    // AWS_CLOUDHSM needs a CloudHSM key store, which is not served; EXTERNAL_KEY_STORE an external key store.
    needs(
      origin === 'AWS_KMS' || origin === 'EXTERNAL' || origin === 'EXTERNAL_KEY_STORE',
      KmsErrors.UnsupportedOperationException,
      `Origin ${origin} requires a CloudHSM key store, which is not supported.`,
    );
    needs(
      origin !== 'EXTERNAL' || rules.importable !== undefined,
      KmsErrors.UnsupportedOperationException,
      `KMS keys with KeySpec ${rules.spec} cannot have imported key material (Origin EXTERNAL).`,
    );
    // Multi-Region keys with imported material (replicas that need their own import of the same material)
    // are not served yet; AWS has no multi-Region keys in custom key stores.
    needs(
      origin === 'AWS_KMS' || input.MultiRegion !== true,
      KmsErrors.UnsupportedOperationException,
      origin === 'EXTERNAL'
        ? 'Multi-Region keys with imported key material (Origin EXTERNAL) are not supported yet.'
        : `Multi-Region keys cannot have Origin ${origin}.`,
    );
    if (origin === 'EXTERNAL_KEY_STORE') {
      // https://docs.aws.amazon.com/kms/latest/developerguide/create-xks-keys.html: symmetric encryption keys only,
      // with a custom key store and the external key's id.
      needs(
        rules.spec === 'SYMMETRIC_DEFAULT' && usage === 'ENCRYPT_DECRYPT',
        KmsErrors.UnsupportedOperationException,
        `KMS keys in an external key store must be symmetric encryption keys (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT), not ${rules.spec} ${usage}.`,
      );
      needs(input.CustomKeyStoreId !== undefined, CommonErrors.ValidationException, 'CustomKeyStoreId is required when Origin is EXTERNAL_KEY_STORE.');
      needs(input.XksKeyId !== undefined, CommonErrors.ValidationException, 'XksKeyId is required when Origin is EXTERNAL_KEY_STORE.');
    } else {
      needs(input.XksKeyId === undefined, CommonErrors.ValidationException, 'XksKeyId is valid only when Origin is EXTERNAL_KEY_STORE.');
      needs(
        input.CustomKeyStoreId === undefined,
        KmsErrors.UnsupportedOperationException,
        `A CustomKeyStoreId needs Origin EXTERNAL_KEY_STORE (the Origin is ${origin}).`,
      );
    }
    // The key id is drawn first so that the lockout check sees the key's real ARN.
    const multiRegion = input.MultiRegion === true;
    const keyId = newKeyId(multiRegion);
    if (input.Policy !== undefined) {
      checkKeyPolicy(input.Policy);
      await needsNoLockout(call, input.Policy, keyArn(call.scope.region, call.scope.accountId, keyId), input.BypassPolicyLockoutSafetyCheck);
    }
    // An external key is checked with its proxy and reserved before the key exists (released if creating fails).
    const stores = origin === 'EXTERNAL_KEY_STORE' ? customKeyStores(call) : undefined;
    const xks = stores ? await stores.prepareKey(call.scope, input.CustomKeyStoreId!, input.XksKeyId!, keyId, xksCaller(call, 'CreateKey')) : undefined;
    let key;
    try {
      key = await call.kms.keys.create(call.scope, {
      keyId,
      ...(input.Description !== undefined ? { description: input.Description } : {}),
      ...(input.Policy !== undefined ? { policy: input.Policy } : {}),
      ...(input.Tags !== undefined ? { tags: input.Tags } : {}),
      keySpec: rules,
      keyUsage: usage,
      origin,
      multiRegion,
      });
    } catch (err) {
      if (xks) await stores!.release(keyId);
      throw err;
    }
    return { KeyMetadata: keyMetadata(key, xks && { xks, connectionState: 'CONNECTED' }, await call.kms.multiRegion.configuration(key)) };
  },
});
