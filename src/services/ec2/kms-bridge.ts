import { randomUUID } from 'node:crypto';
import { ApiCallRecord, EVENT_VERSION, trailTime } from '../../core/audit/record.js';
import { newEventId } from '../../core/audit/event-id.js';
import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { AwsError } from '../../core/errors/aws-error.js';
import { Ec2Errors } from '../../core/errors/ec2.js';
import { CommonErrors } from '../../core/errors/common.js';
import { KmsErrors } from '../../core/errors/kms.js';
import { parseKmsArn } from '../../core/kms/arn.js';
import { internalCaller } from '../../core/kms/custom-key-stores.js';
import { Kms } from '../../core/kms/kms.js';
import { EBS_GRANTEE, GrantUse, VolumeKmsAsCaller, VolumeKmsAsService } from '../../core/volumes/volume-kms.js';
import { GrantStore } from '../../store/metadata/grant-types.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { KmsCaller, KmsClient } from '../kms/kms-client.js';
import { RequestContext } from '../operation.js';

/**
 * KMS as EBS calls it for one EC2 request, as the requester, in `region`: through KMS's typed client (the one
 * dispatch path — key policy + IAM + grants with kms:ViaService = ec2.<region>.amazonaws.com, a KMS record
 * with invokedBy ec2.amazonaws.com), as S3 does for SSE-KMS (services/s3/kms-bridge.ts). A user with every
 * ec2 right but no kms:GenerateDataKeyWithoutPlaintext / kms:CreateGrant / kms:Decrypt on the CMK is refused.
 * https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html#ebs-encryption-permissions
 */
export function kmsForEc2(client: KmsClient, request: RequestContext, region: string, errorOf: (err: unknown) => unknown = ec2ErrorOf): VolumeKmsAsCaller {
  const caller: KmsCaller = { request: { ...request, region }, viaService: `ec2.${region}.amazonaws.com` };
  // The KMS error as the calling API reports it (EC2's codes here; the EBS direct APIs pass their own).
  const ec2Errors = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw errorOf(err);
    }
  };
  return {
    region,
    awsManagedKeyArn: () => ec2Errors(() => client.awsManagedKeyArn(caller, 'ebs')),
    generateDataKeyWithoutPlaintext: (keyId, context) => ec2Errors(() => client.generateDataKeyWithoutPlaintext(caller, { keyId, encryptionContext: context })),
    createGrant: (keyArn, g) =>
      ec2Errors(async () => (await client.createGrant(caller, { keyId: keyArn, granteePrincipal: g.granteePrincipal, retiringPrincipal: g.retiringPrincipal, operations: g.operations })).grantId),
    decrypt: (ciphertextBlob, context) => ec2Errors(() => client.decrypt(caller, { ciphertextBlob, encryptionContext: context })),
    reEncrypt: (ciphertextBlob, sourceContext, destinationKeyId, destinationContext) =>
      ec2Errors(() => client.reEncrypt(caller, { ciphertextBlob, sourceEncryptionContext: sourceContext, destinationKeyId, destinationEncryptionContext: destinationContext })),
  };
}

/**
 * A KMS error as EC2 reports it: a refusal is UnauthorizedOperation (403) naming KMS's message, a disabled or
 * pending-deletion key InvalidKMSKey.InvalidState, an unknown key InvalidParameterValue.
 */
export function ec2ErrorOf(err: unknown): unknown {
  if (!(err instanceof AwsError)) return err;
  if (err.code === 'AccessDeniedException') return new AwsError(Ec2Errors.UnauthorizedOperation, `You are not authorized to perform this operation. ${err.message}`);
  if (err.code === 'DisabledException' || err.code === 'KMSInvalidStateException') return new AwsError(Ec2Errors['InvalidKMSKey.InvalidState'], `The KMS key provided is in an incorrect state: ${err.message}`);
  if (err.code === 'NotFoundException') return new AwsError(Ec2Errors.InvalidParameterValue, `The KMS key provided does not exist: ${err.message}`);
  if (err.fault === 'server') return new AwsError(Ec2Errors.InternalError, 'An internal error has occurred');
  return new AwsError(Ec2Errors.InvalidParameterValue, `${err.code}: ${err.message}`);
}

/**
 * EBS using a volume's CMK by itself, through the grant it got at creation (attach, the NBD device's data key,
 * a snapshot's own wrapped key): the grant must still exist, name EBS and allow the operation, and the key be
 * enabled. Every call is recorded in the key owner's account as made by the AWS service ec2.amazonaws.com
 * with the grant's id, committed before the data key is used.
 */
export class EbsKms implements VolumeKmsAsService {
  constructor(
    private readonly kms: Kms,
    private readonly grants: GrantStore,
    private readonly audit: { append(record: ApiCallRecord): Promise<void> },
  ) {}

  async decrypt(use: GrantUse, ciphertextBlob: Buffer, context: Readonly<Record<string, string>>): Promise<SecretBytes> {
    return this.#recorded(use, 'Decrypt', { encryptionContext: { ...context }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }, async (key) => {
      const located = await this.kms.crypto.locate({ accountId: key.accountId, region: key.region }, ciphertextBlob, undefined);
      if (located.key.arn !== key.arn) throw new AwsError(KmsErrors.IncorrectKeyException, 'The ciphertext was not made under the volume\'s KMS key.');
      return (await this.kms.crypto.decrypt(located, context, internalCaller('Decrypt'))).plaintext;
    });
  }

  async reEncrypt(use: GrantUse, ciphertextBlob: Buffer, sourceContext: Readonly<Record<string, string>>, destinationContext: Readonly<Record<string, string>>): Promise<Buffer> {
    const params = { sourceEncryptionContext: { ...sourceContext }, destinationKeyId: use.keyArn, destinationEncryptionContext: { ...destinationContext } };
    return this.#recorded(use, 'ReEncrypt', params, async (key) => {
      const located = await this.kms.crypto.locate({ accountId: key.accountId, region: key.region }, ciphertextBlob, undefined);
      const plain = (await this.kms.crypto.decrypt(located, sourceContext, internalCaller('ReEncrypt'))).plaintext;
      try {
        return (await this.kms.crypto.encrypt(key, plain, destinationContext, 'ReEncrypt', internalCaller('ReEncrypt'))).ciphertextBlob;
      } finally {
        plain.wipe();
      }
    });
  }

  async unusable(use: GrantUse): Promise<string | undefined> {
    const key = await this.#key(use);
    if (!key) return `the KMS key ${use.keyArn} no longer exists`;
    if (key.keyState !== 'Enabled') return `the KMS key ${use.keyArn} is ${key.keyState === 'PendingDeletion' ? 'pending deletion' : key.keyState.toLowerCase()}`;
    const grant = await this.grants.getGrant(use.grantId);
    if (!grant || grant.keyId !== key.keyId) return `EBS's grant on the KMS key ${use.keyArn} was revoked`;
    return undefined;
  }

  async awsManaged(keyArn: string): Promise<boolean> {
    return (await this.#key({ keyArn }))?.keyManager === 'AWS';
  }

  async retire(use: GrantUse): Promise<void> {
    await this.#recorded(use, 'RetireGrant', { keyId: use.keyArn, grantId: use.grantId }, async (key) => {
      await this.grants.deleteGrant(key.keyId, use.grantId);
    }, false);
  }

  async #key(use: Pick<GrantUse, 'keyArn'>): Promise<KeyRecord | undefined> {
    const arn = parseKmsArn(use.keyArn);
    return arn ? this.kms.resolver.byIdAnywhere(arn.resource) : undefined;
  }

  /** Runs `op` if the grant allows `operation` (checked first), and commits its record before returning its result. */
  async #recorded<T>(use: GrantUse, operation: string, params: Record<string, unknown>, op: (key: KeyRecord) => Promise<T>, readOnly = true): Promise<T> {
    let result: T | undefined;
    let error: unknown;
    const key = await this.#key(use);
    try {
      if (!key) throw new AwsError(KmsErrors.NotFoundException, `Key '${use.keyArn}' does not exist`);
      const grant = await this.grants.getGrant(use.grantId);
      // A ReEncrypt under one key needs both of a grant's ReEncrypt operations (ReEncryptFrom and ReEncryptTo), as KMS's grants do.
      const needs = operation === 'RetireGrant' ? [] : operation === 'ReEncrypt' ? ['ReEncryptFrom', 'ReEncryptTo'] : [operation];
      const allowed = grant !== undefined && grant.keyId === key.keyId && grant.granteePrincipal === EBS_GRANTEE && needs.every((o) => grant.operations.includes(o));
      if (!allowed) throw new AwsError(CommonErrors.AccessDeniedException, `${EBS_GRANTEE} is not authorized to perform: kms:${operation} on resource: ${use.keyArn} because no grant allows it`);
      result = await op(key);
    } catch (err) {
      error = err;
    }
    const failure = error === undefined ? undefined : error instanceof AwsError ? error : new AwsError(KmsErrors.KMSInternalException, 'An internal error occurred.');
    const record: ApiCallRecord = {
      eventVersion: EVENT_VERSION,
      userIdentity: { type: 'AWSService', invokedBy: EBS_GRANTEE },
      eventTime: trailTime(Date.now()),
      eventSource: 'kms.amazonaws.com',
      eventName: operation,
      awsRegion: use.region,
      sourceIPAddress: EBS_GRANTEE,
      userAgent: EBS_GRANTEE,
      ...(failure ? { errorCode: failure.code, errorMessage: failure.message } : {}),
      requestParameters: params,
      responseElements: null,
      additionalEventData: { grantId: use.grantId },
      requestID: randomUUID(),
      eventID: newEventId(),
      readOnly,
      resources: [{ accountId: key?.accountId ?? use.accountId, type: 'AWS::KMS::Key', ARN: use.keyArn }],
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: key?.accountId ?? use.accountId,
      eventCategory: 'Management',
    };
    try {
      await this.audit.append(record);
    } catch {
      if (result instanceof SecretBytes) result.wipe();
      throw new AwsError(KmsErrors.KMSInternalException, 'An internal error occurred. Retry the request.');
    }
    if (error !== undefined) throw error;
    return result as T;
  }
}
