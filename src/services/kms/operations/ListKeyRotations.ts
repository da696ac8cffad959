import { keyRowId } from '../../../store/metadata/types.js';
import { decodeMarker, encodeMarker } from '../../../core/pagination.js';
import { needsSupportedRotation } from '../../../core/kms/keys.js';
import { keyOperation } from '../call.js';

interface Input {
  KeyId: string;
  IncludeKeyMaterial?: 'ALL_KEY_MATERIAL' | 'ROTATIONS_ONLY';
  Limit?: number;
  Marker?: string;
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeyRotations.html
 * Completed rotations, oldest first; with IncludeKeyMaterial=ALL_KEY_MATERIAL the original material too, and
 * imported material pending rotation (neither has a RotationType).
 */
export const ListKeyRotations = keyOperation<Input>({
  name: 'ListKeyRotations',
  action: 'kms:ListKeyRotations',
  readOnly: true,
  aliases: false,
  handle: async (input, call, key) => {
    needsSupportedRotation(key);
    const all = input.IncludeKeyMaterial === 'ALL_KEY_MATERIAL';
    const limit = input.Limit ?? 100;
    let after = decodeMarker('ListKeyRotations', input.Marker);
    const rotations: Record<string, unknown>[] = [];
    let next: string | undefined;
    // Pages of materials, skipping the original one unless asked for, until `limit` entries are found.
    do {
      const page = await call.kms.deps.store.listMaterials(keyRowId(key), after, limit);
      for (const m of page.items) {
        if (m.rotationType === null && !all) continue;
        const i = m.imported;
        rotations.push({
          KeyId: key.keyId,
          KeyMaterialId: m.materialId,
          KeyMaterialState: i?.pendingRotation ? 'PENDING_ROTATION' : m.materialId === key.currentMaterialId ? 'CURRENT' : 'NON_CURRENT',
          RotationDate: m.rotationType === null ? undefined : new Date(m.createdAt),
          RotationType: m.rotationType ?? undefined,
          // "only present for symmetric encryption KMS keys with EXTERNAL origin" (RotationsListEntry)
          ...(i
            ? {
                KeyMaterialDescription: i.description === '' ? undefined : i.description,
                ImportState: i.importState,
                ExpirationModel: i.expirationModel,
                ValidTo: i.validTo === null ? undefined : new Date(i.validTo),
              }
            : {}),
        });
      }
      after = next = page.next;
    } while (next !== undefined && rotations.length < limit);
    const truncated = rotations.length > limit || next !== undefined;
    return {
      Rotations: rotations.slice(0, limit),
      Truncated: truncated,
      NextMarker: truncated && next !== undefined ? encodeMarker('ListKeyRotations', next) : undefined,
    };
  },
});
