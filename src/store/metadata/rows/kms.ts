import {
  AccessKeyRecord, AliasRecord, ExpirationModel, ImportParametersRecord, KeyPatch, KeyRecord, MaterialRecord, RotationType, keyIdOfRow,
} from '../types.js';
import { num, Row, RowDialect, text } from './row.js';

/** KeyPatch fields and their columns; a patch only ever names these (never caller text in SQL). */
export const KEY_PATCH_COLUMNS: Record<keyof KeyPatch, string> = {
  description: 'description',
  keyState: 'key_state',
  deletionDate: 'deletion_date',
  pendingWindowInDays: 'pending_window_in_days',
  policy: 'policy',
  currentMaterialId: 'current_material_id',
  rotationEnabled: 'rotation_enabled',
  rotationPeriodInDays: 'rotation_period_in_days',
  nextRotationDate: 'next_rotation_date',
  onDemandRotationStartDate: 'on_demand_rotation_start_date',
  expirationModel: 'expiration_model',
  validTo: 'valid_to',
  materialExpiresAt: 'material_expires_at',
  primaryRegion: 'primary_region',
};

/** Rows of the KMS tables (access_keys, kms_keys, kms_key_materials, kms_aliases) as records, on either backend. */
export function kmsRows(d: RowDialect) {
  return {
    toAccessKey(r: Row): AccessKeyRecord {
      return {
        accessKeyId: String(r.access_key_id),
        accountId: String(r.account_id),
        principalArn: String(r.principal_arn),
        principalType: r.principal_type as AccessKeyRecord['principalType'],
        principalId: String(r.principal_id),
        secretWrapped: r.secret_wrapped as Buffer,
        status: r.status as AccessKeyRecord['status'],
        createdAt: Number(r.created_at),
      };
    },

    toKey(r: Row): KeyRecord {
      return {
        keyId: keyIdOfRow(String(r.key_id)),
        accountId: String(r.account_id),
        region: String(r.region),
        arn: String(r.arn),
        description: text(r.description),
        keyState: r.key_state as KeyRecord['keyState'],
        keyManager: r.key_manager as KeyRecord['keyManager'],
        createdAt: Number(r.created_at),
        deletionDate: num(r.deletion_date),
        pendingWindowInDays: num(r.pending_window_in_days),
        policy: String(r.policy),
        currentMaterialId: String(r.current_material_id),
        rotationEnabled: d.flag(r.rotation_enabled),
        rotationPeriodInDays: num(r.rotation_period_in_days),
        nextRotationDate: num(r.next_rotation_date),
        onDemandRotationStartDate: num(r.on_demand_rotation_start_date),
        keySpec: String(r.key_spec),
        keyUsage: r.key_usage as KeyRecord['keyUsage'],
        origin: r.origin as KeyRecord['origin'],
        multiRegion: d.flag(r.multi_region),
        // Only keys with imported material have these (absent, not null, for the others).
        ...(r.origin === 'EXTERNAL'
          ? {
              expirationModel: (r.expiration_model ?? null) as ExpirationModel | null,
              validTo: num(r.valid_to),
              materialExpiresAt: num(r.material_expires_at),
            }
          : {}),
        primaryRegion: r.primary_region === null || r.primary_region === undefined ? null : String(r.primary_region),
      };
    },

    toMaterial(r: Row): MaterialRecord {
      return {
        keyId: String(r.key_id),
        materialId: String(r.material_id),
        wrapped: r.wrapped as Buffer,
        createdAt: Number(r.created_at),
        rotationType: (r.rotation_type ?? null) as RotationType | null,
        ...(r.import_state !== null && r.import_state !== undefined
          ? {
              imported: {
                importState: r.import_state as 'IMPORTED' | 'PENDING_IMPORT',
                pendingRotation: d.flag(r.pending_rotation),
                expirationModel: r.expiration_model as ExpirationModel,
                validTo: num(r.valid_to),
                description: text(r.description ?? ''),
              },
            }
          : {}),
      };
    },

    toImportParameters(r: Row): ImportParametersRecord {
      return {
        keyId: String(r.key_id),
        tokenId: String(r.token_id),
        wrappingAlgorithm: String(r.wrapping_algorithm),
        wrappingKeySpec: String(r.wrapping_key_spec),
        privateKeyWrapped: r.private_key_wrapped as Buffer,
        createdAt: Number(r.created_at),
        validTo: Number(r.valid_to),
      };
    },

    toAlias(r: Row): AliasRecord {
      return {
        accountId: String(r.account_id),
        region: String(r.region),
        aliasName: String(r.alias_name),
        targetKeyId: keyIdOfRow(String(r.target_key_id)),
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
      };
    },
  };
}
