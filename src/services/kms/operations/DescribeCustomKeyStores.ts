import { AwsError } from '../../../core/errors/aws-error.js';
import { KmsErrors } from '../../../core/errors/kms.js';
import { decodeMarker, encodeMarker } from '../../../core/pagination.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { customKeyStoreEntry, customKeyStores } from '../custom-key-store-call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeCustomKeyStores.html — Limit 1–1000, default 1000. */
export const DescribeCustomKeyStores = defineOperation<KmsCall, { CustomKeyStoreId?: string; CustomKeyStoreName?: string; Limit?: number; Marker?: string }, undefined>({
  name: 'DescribeCustomKeyStores',
  action: 'kms:DescribeCustomKeyStores',
  readOnly: true,
  resolve: async () => ({ access: [onAccount('kms:DescribeCustomKeyStores')], state: undefined }),
  handle: async (input, call) => {
    const stores = customKeyStores(call);
    if (input.CustomKeyStoreId !== undefined || input.CustomKeyStoreName !== undefined) {
      // One store, by id or by name; a name or id that names none is CustomKeyStoreNotFoundException.
      const all = [];
      let after: string | undefined;
      do {
        const page = await stores.list(call.scope, after, 100);
        all.push(...page.items);
        after = page.next;
      } while (after !== undefined);
      const match = all.filter((s) => (input.CustomKeyStoreId === undefined || s.id === input.CustomKeyStoreId) && (input.CustomKeyStoreName === undefined || s.name === input.CustomKeyStoreName));
      if (match.length === 0) {
        throw new AwsError(KmsErrors.CustomKeyStoreNotFoundException, `Custom key store ${input.CustomKeyStoreId ?? input.CustomKeyStoreName} does not exist in this account and Region.`);
      }
      return { CustomKeyStores: match.map(customKeyStoreEntry), Truncated: false };
    }
    const after = decodeMarker('DescribeCustomKeyStores', input.Marker);
    const page = await stores.list(call.scope, after, input.Limit ?? 1000);
    return {
      CustomKeyStores: page.items.map(customKeyStoreEntry),
      Truncated: page.next !== undefined,
      NextMarker: page.next === undefined ? undefined : encodeMarker('DescribeCustomKeyStores', page.next),
    };
  },
});
