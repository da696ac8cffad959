import { KeyPatch, KeyRecord, MaterialRecord } from '../../../store/metadata/types.js';

/**
 * What a key with imported material is, from its materials: AWS's rule is that a key of Origin EXTERNAL is
 * usable only while every material permanently associated with it is imported ("If you delete any of them or
 * let it expire, the KMS key state changes to PendingImport"); material imported for a rotation that has not
 * happened yet (PENDING_ROTATION) is not permanently associated and does not count.
 * https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-import-key-material.html
 * A key pending deletion keeps that state ("When the KMS key is in the PendingDeletion state, this operation
 * does not change the KMS key's state", DeleteImportedKeyMaterial). DescribeKey's ExpirationModel and ValidTo
 * describe the permanently associated materials; materialExpiresAt is the earliest ValidTo the lifecycle acts on.
 */
export function importedKeyPatch(key: KeyRecord, materials: readonly MaterialRecord[], currentMaterialId = key.currentMaterialId): KeyPatch {
  const permanent = materials.filter((m) => m.imported && !m.imported.pendingRotation);
  const imported = permanent.filter((m) => m.imported!.importState === 'IMPORTED');
  const complete = permanent.length > 0 && imported.length === permanent.length;
  const current = materials.find((m) => m.materialId === currentMaterialId) ?? permanent[0];
  const earliest = (ms: readonly MaterialRecord[]) => {
    let min: number | null = null;
    for (const m of ms) {
      const v = m.imported?.importState === 'IMPORTED' ? m.imported.validTo : null;
      if (v !== null && (min === null || v < min)) min = v;
    }
    return min;
  };
  // KeyMetadata.ValidTo: "The earliest time at which any imported key material permanently associated with
  // this KMS key expires"; its ExpirationModel says whether any does.
  const validTo = earliest(permanent);
  const expirationModel = validTo !== null ? 'KEY_MATERIAL_EXPIRES' : imported.length > 0 ? 'KEY_MATERIAL_DOES_NOT_EXPIRE' : (key.expirationModel ?? null);
  const keyState =
    key.keyState === 'PendingDeletion' ? undefined : !complete ? 'PendingImport' : key.keyState === 'PendingImport' ? 'Enabled' : undefined;
  return {
    ...(keyState ? { keyState } : {}),
    currentMaterialId: current?.materialId ?? '',
    expirationModel,
    validTo,
    // Material pending rotation expires too (it is then simply gone).
    materialExpiresAt: earliest(materials),
  };
}

/** The record of an imported material once its material is gone (deleted or expired): nothing of it is kept. */
export function withoutMaterial(m: MaterialRecord): MaterialRecord {
  return { ...m, wrapped: Buffer.alloc(0), imported: { ...m.imported!, importState: 'PENDING_IMPORT' } };
}
