import { grantConditionContext } from '../../../core/kms/grant-request.js';
import { decodeMarker, encodeMarker } from '../../../core/pagination.js';
import { KeyRecord } from '../../../store/metadata/types.js';
import { onKey, defineKmsOperation } from '../call.js';
import { grantListEntry } from '../grant-entry.js';

interface Input {
  KeyId: string;
  Limit?: number;
  Marker?: string;
  GrantId?: string;
  GranteePrincipal?: string;
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ListGrants.html — needs kms:ListGrants on the key
 * (key ID or key ARN; kms:GrantIsForAWSResource is set). Limit 1–100, default 50; filters by grant id (a
 * malformed one is InvalidGrantIdException) and by grantee principal. Every key state allows it.
 */
export const ListGrants = defineKmsOperation<Input, KeyRecord>({
  name: 'ListGrants',
  action: 'kms:ListGrants',
  crossAccount: true,
  readOnly: true,
  resolve: async (input, call) => {
    const key = await call.kms.resolver.resolve(call.scope, input.KeyId, { aliases: false });
    return { access: [onKey(key, 'kms:ListGrants', { conditions: grantConditionContext({}, call.request) })], state: key };
  },
  handle: async (input, call, key) => {
    const after = decodeMarker('ListGrants', input.Marker);
    const filter = {
      ...(input.GrantId !== undefined ? { grantId: input.GrantId } : {}),
      ...(input.GranteePrincipal !== undefined ? { granteePrincipal: input.GranteePrincipal } : {}),
    };
    const page = await call.kms.grants.list(key, filter, after, Math.min(input.Limit ?? 50, 100));
    return {
      Grants: page.items.map(grantListEntry),
      Truncated: page.next !== undefined,
      NextMarker: page.next === undefined ? undefined : encodeMarker('ListGrants', page.next),
    };
  },
});
