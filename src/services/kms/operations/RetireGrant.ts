import { RetireTarget } from '../../../core/kms/grants.js';
import { GrantRecord } from '../../../store/metadata/grant-types.js';
import { KeyRecord } from '../../../store/metadata/types.js';
import { onKey, defineKmsOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_RetireGrant.html
 * "Permission to retire a grant is determined primarily by the grant": its retiring principal, and its
 * grantee when the grant lists RetireGrant, may retire it with no policy (no access to authorize). Anyone
 * else needs kms:RetireGrant on the key from the key policy or IAM policies — the key's account, and the
 * principals it delegates to (https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html).
 * The grant is named by its token, or by key ID/ARN and grant ID. Every key state allows it.
 */
export const RetireGrant = defineKmsOperation<RetireTarget, { grant: GrantRecord; key: KeyRecord }>({
  name: 'RetireGrant',
  action: 'kms:RetireGrant',
  crossAccount: true,
  readOnly: false,
  resolve: async (input, call) => {
    const found = await call.kms.grants.findToRetire(call.scope, call.kms.resolver, input);
    const byGrant = call.kms.grants.grantLetsRetire(call.request.principal, found.grant);
    return { access: byGrant ? [] : [onKey(found.key, 'kms:RetireGrant')], state: found };
  },
  handle: async (_input, call, { grant }) => {
    await call.kms.grants.retire(grant);
    return {};
  },
});
