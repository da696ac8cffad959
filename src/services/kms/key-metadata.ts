import { KeyRecord } from '../../store/metadata/types.js';

/** The KeyMetadata structure of DescribeKey, CreateKey and friends (botocore shape KeyMetadata). */
export function keyMetadata(key: KeyRecord): Record<string, unknown> {
  return {
    AWSAccountId: key.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: new Date(key.createdAt),
    Enabled: key.keyState === 'Enabled',
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: key.keyState,
    DeletionDate: key.deletionDate === null ? undefined : new Date(key.deletionDate),
    PendingDeletionWindowInDays: key.pendingWindowInDays ?? undefined,
    Origin: 'AWS_KMS',
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
    CurrentKeyMaterialId: key.currentMaterialId,
  };
}
