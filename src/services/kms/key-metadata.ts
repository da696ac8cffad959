import { algorithmsOf, customerMasterKeySpecOf } from '../../core/kms/key-specs/index.js';
import { MultiRegionConfiguration } from '../../core/kms/multi-region.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { ConnectionState, XksKeyRecord } from '../../store/metadata/custom-key-store-types.js';

/** A key in an external key store: its store and external key, and the store's connection state. */
export interface InCustomKeyStore {
  readonly xks: XksKeyRecord;
  readonly connectionState: ConnectionState | undefined;
}

/**
 * The KeyMetadata structure of DescribeKey, CreateKey and friends (botocore shape KeyMetadata): the key's
 * spec and usage with the algorithms they bring (EncryptionAlgorithms, SigningAlgorithms, MacAlgorithms or
 * KeyAgreementAlgorithms), as key-specs/ declares them.
 */
export function keyMetadata(key: KeyRecord, custom?: InCustomKeyStore, multiRegion?: MultiRegionConfiguration): Record<string, unknown> {
  // AWS: a key whose custom key store is not connected is Unavailable (its Enabled flag keeps its own state).
  const unavailable = custom !== undefined && custom.connectionState !== 'CONNECTED' && (key.keyState === 'Enabled' || key.keyState === 'Disabled');
  return {
    AWSAccountId: key.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: new Date(key.createdAt),
    Enabled: key.keyState === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: unavailable ? 'Unavailable' : key.keyState,
    DeletionDate: key.deletionDate === null ? undefined : new Date(key.deletionDate),
    PendingDeletionWindowInDays: key.pendingWindowInDays ?? undefined,
    Origin: key.origin,
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: customerMasterKeySpecOf(key),
    KeySpec: key.keySpec,
    ...algorithmsOf(key),
    MultiRegion: key.multiRegion,
    ...(multiRegion ? { MultiRegionConfiguration: multiRegion } : {}),
    // "present for symmetric encryption keys with AWS_KMS or EXTERNAL origin" (the keys that rotate); a key of
    // Origin EXTERNAL has none until its first material is imported.
    CurrentKeyMaterialId:
      key.keySpec === 'SYMMETRIC_DEFAULT' && (key.origin === 'AWS_KMS' || key.origin === 'EXTERNAL') && key.currentMaterialId !== ''
        ? key.currentMaterialId
        : undefined,
    // Imported material: "ExpirationModel is present only when Origin is EXTERNAL", ValidTo only when it expires.
    ExpirationModel: key.expirationModel ?? undefined,
    ValidTo: key.validTo === undefined || key.validTo === null ? undefined : new Date(key.validTo),
    CustomKeyStoreId: custom?.xks.customKeyStoreId,
    XksKeyConfiguration: custom ? { Id: custom.xks.xksKeyId } : undefined,
  };
}
