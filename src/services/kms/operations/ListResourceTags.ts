import { decodeMarker, encodeMarker } from '../../../core/pagination.js';
import { keyOperation } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListResourceTags.html — Limit 1–50, default 50. */
export const ListResourceTags = keyOperation<{ KeyId: string; Limit?: number; Marker?: string }>({
  name: 'ListResourceTags',
  action: 'kms:ListResourceTags',
  readOnly: true,
  aliases: false,
  handle: async (input, call, key) => {
    const page = await call.kms.tags.list(key, decodeMarker('ListResourceTags', input.Marker), Math.min(input.Limit ?? 50, 50));
    return {
      Tags: page.items,
      Truncated: page.next !== undefined,
      NextMarker: page.next === undefined ? undefined : encodeMarker('ListResourceTags', page.next),
    };
  },
});
