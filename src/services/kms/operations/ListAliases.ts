import { aliasArn } from '../../../core/kms/arn.js';
import { decodeMarker, encodeMarker } from '../../../core/pagination.js';
import { KeyRecord } from '../../../store/metadata/types.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html — Limit 1–100, default 50. */
export const ListAliases = defineOperation<KmsCall, { KeyId?: string; Limit?: number; Marker?: string }, KeyRecord | undefined>({
  name: 'ListAliases',
  action: 'kms:ListAliases',
  readOnly: true,
  resolve: async (input, call) => ({
    access: [onAccount('kms:ListAliases')],
    state: input.KeyId === undefined ? undefined : await call.kms.resolver.resolve(call.scope, input.KeyId, { aliases: false }),
  }),
  handle: async (input, call, key) => {
    const after = decodeMarker('ListAliases', input.Marker);
    const page = await call.kms.aliases.list(call.scope, key?.keyId, after, Math.min(input.Limit ?? 50, 100));
    return {
      Aliases: page.items.map((a) => ({
        AliasName: a.aliasName,
        AliasArn: aliasArn(a.region, a.accountId, a.aliasName),
        // A predefined AWS alias whose key does not exist yet has no key and no dates.
        ...(a.targetKeyId !== undefined ? { TargetKeyId: a.targetKeyId, CreationDate: new Date(a.createdAt), LastUpdatedDate: new Date(a.updatedAt) } : {}),
      })),
      Truncated: page.next !== undefined,
      NextMarker: page.next === undefined ? undefined : encodeMarker('ListAliases', page.next),
    };
  },
});
