import { createRequire } from 'node:module';
import { ENCRYPTION_CONTEXT_MAX_BYTES, encryptionContextBytes } from '../../core/crypto/encryption-context.js';
import { ServiceModel, ShapeCodec } from '../shapes.js';
import { KmsOperation } from './call.js';
import { ModelSupplement, withSupplement } from './model-supplement.js';
import { CancelKeyDeletion } from './operations/CancelKeyDeletion.js';
import { CreateAlias } from './operations/CreateAlias.js';
import { CreateGrant } from './operations/CreateGrant.js';
import { CreateKey } from './operations/CreateKey.js';
import { ConnectCustomKeyStore } from './operations/ConnectCustomKeyStore.js';
import { CreateCustomKeyStore } from './operations/CreateCustomKeyStore.js';
import { DeleteCustomKeyStore } from './operations/DeleteCustomKeyStore.js';
import { DescribeCustomKeyStores } from './operations/DescribeCustomKeyStores.js';
import { DisconnectCustomKeyStore } from './operations/DisconnectCustomKeyStore.js';
import { UpdateCustomKeyStore } from './operations/UpdateCustomKeyStore.js';
import { Decapsulate } from './operations/Decapsulate.js';
import { Decrypt } from './operations/Decrypt.js';
import { DeleteAlias } from './operations/DeleteAlias.js';
import { DeleteImportedKeyMaterial } from './operations/DeleteImportedKeyMaterial.js';
import { DeriveSharedSecret } from './operations/DeriveSharedSecret.js';
import { DescribeKey } from './operations/DescribeKey.js';
import { DisableKey } from './operations/DisableKey.js';
import { DisableKeyRotation } from './operations/DisableKeyRotation.js';
import { EnableKey } from './operations/EnableKey.js';
import { EnableKeyRotation } from './operations/EnableKeyRotation.js';
import { Encapsulate } from './operations/Encapsulate.js';
import { Encrypt } from './operations/Encrypt.js';
import { GenerateDataKey } from './operations/GenerateDataKey.js';
import { GenerateDataKeyPair } from './operations/GenerateDataKeyPair.js';
import { GenerateDataKeyPairWithoutPlaintext } from './operations/GenerateDataKeyPairWithoutPlaintext.js';
import { GenerateDataKeyWithoutPlaintext } from './operations/GenerateDataKeyWithoutPlaintext.js';
import { GenerateMac } from './operations/GenerateMac.js';
import { GenerateRandom } from './operations/GenerateRandom.js';
import { GetKeyLastUsage } from './operations/GetKeyLastUsage.js';
import { GetKeyPolicy } from './operations/GetKeyPolicy.js';
import { GetKeyRotationStatus } from './operations/GetKeyRotationStatus.js';
import { GetParametersForImport } from './operations/GetParametersForImport.js';
import { ImportKeyMaterial } from './operations/ImportKeyMaterial.js';
import { GetPublicKey } from './operations/GetPublicKey.js';
import { ListAliases } from './operations/ListAliases.js';
import { ListGrants } from './operations/ListGrants.js';
import { ListKeyPolicies } from './operations/ListKeyPolicies.js';
import { ListKeyRotations } from './operations/ListKeyRotations.js';
import { ListKeys } from './operations/ListKeys.js';
import { ListResourceTags } from './operations/ListResourceTags.js';
import { ListRetirableGrants } from './operations/ListRetirableGrants.js';
import { PutKeyPolicy } from './operations/PutKeyPolicy.js';
import { ReEncrypt } from './operations/ReEncrypt.js';
import { ReplicateKey } from './operations/ReplicateKey.js';
import { RetireGrant } from './operations/RetireGrant.js';
import { RevokeGrant } from './operations/RevokeGrant.js';
import { RotateKeyOnDemand } from './operations/RotateKeyOnDemand.js';
import { ScheduleKeyDeletion } from './operations/ScheduleKeyDeletion.js';
import { Sign } from './operations/Sign.js';
import { TagResource } from './operations/TagResource.js';
import { UntagResource } from './operations/UntagResource.js';
import { UpdateAlias } from './operations/UpdateAlias.js';
import { UpdateKeyDescription } from './operations/UpdateKeyDescription.js';
import { UpdatePrimaryRegion } from './operations/UpdatePrimaryRegion.js';
import { Verify } from './operations/Verify.js';
import { VerifyMac } from './operations/VerifyMac.js';

const load = createRequire(import.meta.url);
/** botocore's model (model.json) with what only newer models have (model-newer.json: model-supplement.ts). */
const model = withSupplement(load('./model.json') as ServiceModel, load('./model-newer.json') as ModelSupplement);

/** The KMS operation table: wire name → operation. Every entry must exist in the botocore model. */
export const KMS_OPERATIONS: ReadonlyMap<string, KmsOperation> = new Map(
  [
    CancelKeyDeletion, CreateAlias, CreateGrant, CreateKey, Decrypt, DeleteAlias, DescribeKey, DisableKey,
    DisableKeyRotation, EnableKey, EnableKeyRotation, Encrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext,
    GenerateRandom, GetKeyPolicy, GetKeyRotationStatus, ListAliases, ListGrants, ListKeyPolicies, ListKeyRotations,
    ListKeys, ListResourceTags, ListRetirableGrants, PutKeyPolicy, ReEncrypt, RetireGrant, RevokeGrant,
    RotateKeyOnDemand, ScheduleKeyDeletion, TagResource, UntagResource, UpdateAlias, UpdateKeyDescription,
    GetPublicKey, Sign, Verify, GenerateMac, VerifyMac, DeriveSharedSecret, GenerateDataKeyPair,
    GenerateDataKeyPairWithoutPlaintext, GetKeyLastUsage, Encapsulate, Decapsulate,
    GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial,
    CreateCustomKeyStore, DescribeCustomKeyStores, UpdateCustomKeyStore, ConnectCustomKeyStore, DisconnectCustomKeyStore,
    DeleteCustomKeyStore, ReplicateKey, UpdatePrimaryRegion,
  ].map((op) => [op.name, op as KmsOperation]),
);

export const KMS_MODEL = model;
/**
 * Every EncryptionContextType in the model — the EncryptionContext of Encrypt, Decrypt, GenerateDataKey*,
 * ReEncrypt's source and destination contexts, CreateGrant's constraints — is bounded in size.
 */
export const KMS_CODEC = new ShapeCodec(model, undefined, {
  EncryptionContextType: (value) =>
    encryptionContextBytes(value as Record<string, string>) > ENCRYPTION_CONTEXT_MAX_BYTES
      ? `Member must have a total size of keys and values less than or equal to ${ENCRYPTION_CONTEXT_MAX_BYTES} bytes`
      : undefined,
});
/** SigV4 signing name and the X-Amz-Target prefix of AWS JSON 1.1. */
export const KMS_SIGNING_NAME = 'kms';
export const KMS_TARGET_PREFIX = model.metadata.targetPrefix;
