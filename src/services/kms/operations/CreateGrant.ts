import { CreateGrantParams, GrantRequest, grantConditionContext, grantRequestOf } from '../../../core/kms/grant-request.js';
import { ChildGrant, childGrantOf } from '../../../core/kms/grant-source.js';
import { grantIdsOfTokens } from '../../../core/kms/grant-token.js';
import { KeyRecord } from '../../../store/metadata/types.js';
import { KmsAccess, onKey, defineKmsOperation } from '../call.js';

/**
 * The access CreateGrant asks for: kms:CreateGrant on the key with the grant condition keys, and the grant it
 * would create, which a grant used for CreateGrant must bound (`KmsGrantQuery.createGrant`; the authorizer
 * passes it on to the grant source).
 */
export type CreateGrantAccess = KmsAccess & { readonly createGrant: ChildGrant };

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html
 * Needs kms:CreateGrant on the key (key ID or key ARN), with the condition keys kms:GrantOperations,
 * kms:GranteePrincipal, kms:RetiringPrincipal, kms:GrantConstraintType and kms:GrantIsForAWSResource.
 * What the grant would allow is checked before authorization, so a DryRun reports a ValidationException
 * too; the key state (enabled) is checked when the grant is made.
 */
export const CreateGrant = defineKmsOperation<CreateGrantParams, { key: KeyRecord; request: GrantRequest }>({
  name: 'CreateGrant',
  action: 'kms:CreateGrant',
  crossAccount: true,
  readOnly: false,
  resolve: async (input, call) => {
    grantIdsOfTokens(input.GrantTokens);
    const key = await call.kms.resolver.resolve(call.scope, input.KeyId, { aliases: false });
    const request = grantRequestOf(input, key);
    const access: CreateGrantAccess = {
      ...onKey(key, 'kms:CreateGrant', { conditions: grantConditionContext(input, call.request) }),
      createGrant: childGrantOf(input),
    };
    return { access: [access], state: { key, request } };
  },
  handle: async (_input, call, { key, request }) => {
    const created = await call.kms.grants.create(key, call.request.principal, request);
    return { GrantId: created.grantId, GrantToken: created.grantToken };
  },
});
