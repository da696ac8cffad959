import { decodeMarker, encodeMarker } from '../../../core/pagination.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeys.html — Limit 1–1000, default 100. */
export const ListKeys = defineOperation<KmsCall, { Limit?: number; Marker?: string }, undefined>({
  name: 'ListKeys',
  action: 'kms:ListKeys',
  readOnly: true,
  resolve: async () => ({ access: [onAccount('kms:ListKeys')], state: undefined }),
  handle: async (input, call) => {
    const after = decodeMarker('ListKeys', input.Marker);
    const page = await call.kms.deps.store.listKeys(call.scope.accountId, call.scope.region, after, input.Limit ?? 100);
    return {
      Keys: page.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })),
      Truncated: page.next !== undefined,
      NextMarker: page.next === undefined ? undefined : encodeMarker('ListKeys', page.next),
    };
  },
});
