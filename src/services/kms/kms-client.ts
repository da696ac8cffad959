import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { AwsError } from '../../core/errors/aws-error.js';
import { Kms } from '../../core/kms/kms.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { auditRecord } from '../audit.js';
import { RequestContext } from '../operation.js';
import { RecordDurability, ServiceDefinition, dispatchTyped } from '../service.js';
import { KmsAccess, KmsCall } from './call.js';
import { keyMetadata } from './key-metadata.js';

/**
 * Who calls KMS through the typed client: the caller of the outer request (its principal stays the
 * caller's) and the service calling on its behalf, `viaService` = that service's endpoint
 * (`s3.us-east-1.amazonaws.com`), which becomes kms:ViaService and the record's invokedBy.
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
 */
export interface KmsCaller {
  readonly request: RequestContext;
  readonly viaService: string;
  /**
   * true when the calling service's own record of this request is committed after the KMS calls and awaited
   * durable before its answer leaves (S3's dispatch): the KMS records then share that one sync (see
   * RecordDurability). false (default): each KMS record is durable before the KMS call returns.
   */
  readonly durableWithCaller?: boolean;
}

export interface DataKey {
  /** The caller wipes it once it has sealed what it protects. */
  readonly plaintext: SecretBytes;
  readonly ciphertextBlob: Buffer;
  readonly keyArn: string;
}

/**
 * KMS as another service in this process calls it (S3 first): GenerateDataKey and Decrypt through the one
 * dispatch path (services/service.ts#dispatchTyped) — resolve, key policy + IAM + grants with kms:ViaService,
 * the handler, the audit record — with typed inputs and outputs: no JSON and no base64 on the way, the
 * data key handed over as the SecretBytes the handler made (so the caller's wipe reaches the only copy), the
 * input checked once against the model's constraints.
 */
export class KmsClient {
  constructor(
    private readonly kms: Kms,
    private readonly service: ServiceDefinition<KmsCall, KmsAccess>,
  ) {}

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html (AES_256 unless said). */
  async generateDataKey(
    caller: KmsCaller,
    input: { keyId: string; keySpec?: 'AES_256' | 'AES_128'; encryptionContext?: Readonly<Record<string, string>> },
  ): Promise<DataKey> {
    const out = await this.#call(caller, 'GenerateDataKey', {
      KeyId: input.keyId,
      KeySpec: input.keySpec ?? 'AES_256',
      ...(input.encryptionContext ? { EncryptionContext: input.encryptionContext } : {}),
    });
    return { plaintext: out.Plaintext as SecretBytes, ciphertextBlob: out.CiphertextBlob as Buffer, keyArn: out.KeyId as string };
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html */
  async decrypt(
    caller: KmsCaller,
    input: { ciphertextBlob: Buffer; encryptionContext?: Readonly<Record<string, string>>; keyId?: string },
  ): Promise<{ plaintext: SecretBytes; keyArn: string }> {
    const out = await this.#call(caller, 'Decrypt', {
      CiphertextBlob: input.ciphertextBlob,
      ...(input.encryptionContext ? { EncryptionContext: input.encryptionContext } : {}),
      ...(input.keyId !== undefined ? { KeyId: input.keyId } : {}),
    });
    return { plaintext: out.Plaintext as SecretBytes, keyArn: out.KeyId as string };
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyWithoutPlaintext.html (AES_256). */
  async generateDataKeyWithoutPlaintext(
    caller: KmsCaller,
    input: { keyId: string; encryptionContext?: Readonly<Record<string, string>> },
  ): Promise<{ ciphertextBlob: Buffer; keyArn: string }> {
    const out = await this.#call(caller, 'GenerateDataKeyWithoutPlaintext', {
      KeyId: input.keyId,
      KeySpec: 'AES_256',
      ...(input.encryptionContext ? { EncryptionContext: input.encryptionContext } : {}),
    });
    return { ciphertextBlob: out.CiphertextBlob as Buffer, keyArn: out.KeyId as string };
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html (kms:GrantIsForAWSResource is true: a service calls). */
  async createGrant(
    caller: KmsCaller,
    input: { keyId: string; granteePrincipal: string; retiringPrincipal?: string; operations: readonly string[] },
  ): Promise<{ grantId: string }> {
    const out = await this.#call(caller, 'CreateGrant', {
      KeyId: input.keyId,
      GranteePrincipal: input.granteePrincipal,
      ...(input.retiringPrincipal !== undefined ? { RetiringPrincipal: input.retiringPrincipal } : {}),
      Operations: [...input.operations],
    });
    return { grantId: out.GrantId as string };
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html (symmetric keys). */
  async reEncrypt(
    caller: KmsCaller,
    input: {
      ciphertextBlob: Buffer;
      sourceEncryptionContext?: Readonly<Record<string, string>>;
      destinationKeyId: string;
      destinationEncryptionContext?: Readonly<Record<string, string>>;
    },
  ): Promise<{ ciphertextBlob: Buffer; keyArn: string }> {
    const out = await this.#call(caller, 'ReEncrypt', {
      CiphertextBlob: input.ciphertextBlob,
      ...(input.sourceEncryptionContext ? { SourceEncryptionContext: input.sourceEncryptionContext } : {}),
      DestinationKeyId: input.destinationKeyId,
      ...(input.destinationEncryptionContext ? { DestinationEncryptionContext: input.destinationEncryptionContext } : {}),
    });
    return { ciphertextBlob: out.CiphertextBlob as Buffer, keyArn: out.KeyId as string };
  }

  /**
   * The ARN of the account's AWS managed key of `service` (aws/s3) in the caller's Region, created on first
   * use. Its creation is recorded like any key creation: a CreateKey call in the account, made by the
   * service on the caller's behalf (userIdentity the caller, invokedBy the service), with the request
   * parameters AWS shows for CreateKey and the new key's metadata as responseElements.
   * https://docs.aws.amazon.com/kms/latest/developerguide/ct-createkey.html
   */
  async awsManagedKeyArn(caller: KmsCaller, service: string): Promise<string> {
    const { request } = caller;
    const scope = { accountId: request.principal.accountId, region: request.region };
    const key = await this.kms.awsManaged.ensure(scope, service, (created) => this.#recordCreation(caller, created));
    return key.arn;
  }

  async #recordCreation(caller: KmsCaller, key: KeyRecord): Promise<void> {
    const op = this.service.operations.get('CreateKey')!;
    const input = { Description: key.description, KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT', Origin: 'AWS_KMS', Policy: key.policy };
    const outcome = { input, access: [], output: { KeyMetadata: keyMetadata(key) } };
    const record = auditRecord(this.service, op, { ...caller.request, viaService: caller.viaService }, outcome, Date.now());
    try {
      const audit = this.service.audit;
      if (!audit) throw new Error('no audit log');
      await (caller.durableWithCaller ? audit.appendCommitted([record]) : audit.append(record));
    } catch {
      // Fail closed, as dispatch: the key is not handed out (nor its alias made) without its record.
      throw new AwsError(this.service.internalError, 'An internal error occurred. Retry the request.');
    }
  }

  async #call(caller: KmsCaller, operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const op = this.service.operations.get(operation);
    if (!op) throw new Error(`no KMS operation ${operation}`);
    const durability: RecordDurability = { durableWithCaller: caller.durableWithCaller ?? false };
    return dispatchTyped(this.service, op, input, { ...caller.request, viaService: caller.viaService }, durability);
  }
}
