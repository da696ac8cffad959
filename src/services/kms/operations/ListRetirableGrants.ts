import { needs } from '../../../core/errors/aws-error.js';
import { CommonErrors } from '../../../core/errors/common.js';
import { principalAccountId } from '../../../core/kms/grant-principals.js';
import { decodeMarker, encodeMarker } from '../../../core/pagination.js';
import { defineOperation } from '../../operation.js';
import { KmsAccess, KmsCall, onAccount } from '../call.js';
import { grantListEntry } from '../grant-entry.js';

interface Input {
  RetiringPrincipal: string;
  Limit?: number;
  Marker?: string;
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ListRetirableGrants.html
 * Needs kms:ListRetirableGrants (IAM policy) in the caller's account, and "you must specify a principal in
 * your AWS account"; the grants listed may be on keys of any account (no permission on those keys is
 * needed), in the caller's region. Limit 1–100, default 50.
 */
export const ListRetirableGrants = defineOperation<KmsCall, Input, undefined, KmsAccess>({
  name: 'ListRetirableGrants',
  action: 'kms:ListRetirableGrants',
  readOnly: true,
  resolve: async (input, call) => {
    const { principal } = call.request;
    needs(
      principalAccountId(input.RetiringPrincipal) === principal.accountId,
      CommonErrors.AccessDeniedException,
      `User: ${principal.arn} is not authorized to perform: kms:ListRetirableGrants on resource: ${input.RetiringPrincipal} because the retiring principal is not in the caller's account`,
    );
    return { access: [onAccount('kms:ListRetirableGrants')], state: undefined };
  },
  handle: async (input, call) => {
    const after = decodeMarker('ListRetirableGrants', input.Marker);
    const page = await call.kms.grants.listRetirable(call.scope, input.RetiringPrincipal, after, Math.min(input.Limit ?? 50, 100));
    return {
      Grants: page.items.map(grantListEntry),
      Truncated: page.next !== undefined,
      NextMarker: page.next === undefined ? undefined : encodeMarker('ListRetirableGrants', page.next),
    };
  },
});
