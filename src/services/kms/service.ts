import { needs } from '../../core/errors/aws-error.js';
import { KmsErrors } from '../../core/errors/kms.js';
import { KmsAccessControl } from '../../core/kms/access-control.js';
import { grantIdsOfTokens } from '../../core/kms/grant-token.js';
import { Kms } from '../../core/kms/kms.js';
import { auditView } from '../audit.js';
import { ServiceDefinition } from '../service.js';
import { KmsAccess, KmsCall } from './call.js';
import { keyRowId } from '../../store/metadata/types.js';
import { foreignKeysDenied } from './foreign-keys.js';
import { requestConditions } from '../request-conditions.js';
import { kmsConditions } from './conditions.js';
import { TRACKED_OPERATIONS } from '../../core/kms/key-last-usage.js';
import { replicaCreateKeyRecord } from './replica-record.js';
import { KMS_CODEC, KMS_MODEL, KMS_OPERATIONS, KMS_SIGNING_NAME } from './index.js';

export function kmsService(kms: Kms, access: KmsAccessControl): ServiceDefinition<KmsCall, KmsAccess> {
  return {
    signingName: KMS_SIGNING_NAME,
    operations: foreignKeysDenied(KMS_OPERATIONS),
    codec: KMS_CODEC,
    internalError: KmsErrors.KMSInternalException,
    context: (request) => ({ kms, access, request, scope: { accountId: request.principal.accountId, region: request.region } }),
    authorize: async (call, accesses, input) => {
      const base = requestConditions(KMS_SIGNING_NAME, call.request, kms.deps.clock.now());
      const grantTokens = input.GrantTokens as string[] | undefined;
      // A malformed grant token is InvalidGrantTokenException whether or not a grant is needed.
      grantIdsOfTokens(grantTokens);
      for (const a of accesses) {
        await access.authorize({
          principal: call.request.principal,
          action: a.action,
          resource: a.resource,
          ...(a.key ? { key: a.key } : {}),
          conditions: kmsConditions(base, a),
          ...(a.encryptionContext ? { encryptionContext: a.encryptionContext } : {}),
          ...(grantTokens ? { grantTokens } : {}),
          ...(a.createGrant ? { createGrant: a.createGrant } : {}),
        });
      }
    },
    // CloudTrail shows no response for KMS calls (cryptographic ones above all) but CreateKey's keyMetadata and
    // the key and key material of ImportKeyMaterial and DeleteImportedKeyMaterial.
    // https://docs.aws.amazon.com/kms/latest/developerguide/ct-createkey.html, ct-importkeymaterial.html,
    // ct-deleteimportedkeymaterial.html
    responseElements: (operation, output) =>
      operation === 'CreateKey'
        ? { keyMetadata: auditView(KMS_MODEL, 'KeyMetadata', output.KeyMetadata) ?? null }
        : operation === 'ImportKeyMaterial' || operation === 'DeleteImportedKeyMaterial'
          ? { keyId: output.KeyId, keyMaterialId: output.KeyMaterialId }
          : operation === 'ReplicateKey'
            ? { replicaKeyMetadata: auditView(KMS_MODEL, 'KeyMetadata', output.ReplicaKeyMetadata) ?? null }
            : null,
    companionRecords: (operation, request, outcome) => replicaCreateKeyRecord(operation, request, outcome),
    // A successful cryptographic call is each of its keys' last use, with the eventID of the record the key's
    // owner gets (ReEncrypt: both keys; another account's key: that account's copy).
    // https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyLastUsage.html
    succeeded: (operation, accesses, records) => {
      if (!TRACKED_OPERATIONS.has(operation)) return;
      const first = records[0]!;
      const usedAt = Date.parse(first.eventTime);
      for (const a of accesses) {
        if (!a.key) continue;
        const record = records.find((r) => r.recipientAccountId === a.key!.accountId) ?? first;
        kms.lastUsage.note({ keyId: keyRowId(a.key), operation, usedAt, cloudTrailEventId: record.eventID, requestId: record.requestID });
      }
    },
    beforeHandle: (input) => {
      // https://docs.aws.amazon.com/kms/latest/developerguide/testing-permissions.html
      needs(input.DryRun !== true, KmsErrors.DryRunOperationException, 'The request would have succeeded, but the DryRun option is set.');
    },
  };
}
