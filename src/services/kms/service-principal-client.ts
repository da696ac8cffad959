import { randomUUID } from 'node:crypto';
import { ApiCallRecord, EVENT_VERSION, trailTime } from '../../core/audit/record.js';
import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { AwsError } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';
import { KmsErrors } from '../../core/errors/kms.js';
import { Kms } from '../../core/kms/kms.js';
import { internalCaller } from '../../core/kms/custom-key-stores.js';
import { ContextValue, PolicyCache, accessDeniedMessage, evaluate } from '../../core/policy/index.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { auditView } from '../audit.js';
import { requestConditions } from '../request-conditions.js';
import { KMS_MODEL } from './index.js';
import { keyMetadata } from './key-metadata.js';
import { encryptionAlgorithmCondition, encryptionContextConditions, keyConditions } from './conditions.js';
import { newEventId } from '../../core/audit/event-id.js';

const SERVICE_UNKNOWN = new Set(['sourceIp', 'userAgent'] as const);

/**
 * An AWS service calling KMS as itself — its service principal, not a user: CloudTrail asking for the data
 * key of a trail's SSE-KMS log file. `sourceArn`/`sourceAccount` are the resource it acts for (the trail and
 * its account): a key policy names them in aws:SourceArn / aws:SourceAccount conditions.
 */
export interface ServiceCaller {
  /** The service principal, e.g. `cloudtrail.amazonaws.com`. */
  readonly service: string;
  readonly sourceArn: string;
  readonly sourceAccount: string;
  /** The region the service calls KMS in (the bucket's, for CloudTrail's log files). */
  readonly region: string;
}

/**
 * KMS for service principals. A service principal has no account and no identity policies: only the key
 * policy can let it in, and any Deny in it wins (grants to service principals are not modelled). Every call
 * is recorded in the key owner's account as AWS records them — userIdentity `{type: AWSService, invokedBy}`,
 * sourceIPAddress and userAgent the service — and the record is committed before the data key is handed out.
 * https://docs.aws.amazon.com/kms/latest/developerguide/services-cloudtrail.html
 */
export class KmsServicePrincipalClient {
  constructor(
    private readonly kms: Kms,
    private readonly audit: { append(record: ApiCallRecord): Promise<void> },
    private readonly policies = new PolicyCache(),
  ) {}

  /** GenerateDataKey (AES_256) under the key `keyRef` names — key id, key ARN, alias name or alias ARN — as the caller's region sees it. */
  async generateDataKey(caller: ServiceCaller, keyRef: string, context: Readonly<Record<string, string>>): Promise<{ plaintext: SecretBytes; ciphertextBlob: Buffer; keyArn: string }> {
    const key = await this.kms.resolver.resolve({ accountId: caller.sourceAccount, region: caller.region }, keyRef, { aliases: true });
    let error: unknown;
    let dk: { plaintext: SecretBytes; ciphertextBlob: Buffer } | undefined;
    let record: ApiCallRecord;
    try {
      this.#authorize(caller, key, 'kms:GenerateDataKey', context);
      dk = await this.kms.crypto.generateDataKey(key, 32, context, 'GenerateDataKey', internalCaller('GenerateDataKey'));
    } catch (err) {
      error = err;
    }
    try {
      record = await this.#record(caller, key, keyRef, context, error);
    } catch (err) {
      dk?.plaintext.wipe();
      throw err;
    }
    if (error !== undefined || !dk) throw error;
    // A service's use is the key's last use too (GetKeyLastUsage), with the record its owner got.
    this.kms.lastUsage.note({ keyId: key.keyId, operation: 'GenerateDataKey', usedAt: Date.parse(record.eventTime), cloudTrailEventId: record.eventID, requestId: record.requestID });
    return { plaintext: dk.plaintext, ciphertextBlob: dk.ciphertextBlob, keyArn: key.arn };
  }

  /**
   * The AWS managed key of a service (aws/s3) of an account, made on first use: what a bucket default without
   * a key means. A creation is recorded like any key creation: CreateKey in the account, made by the calling
   * service (userIdentity AWSService), committed before the key is used.
   * https://docs.aws.amazon.com/kms/latest/developerguide/ct-createkey.html
   */
  async awsManagedKeyArn(caller: ServiceCaller, accountId: string, region: string, service: string): Promise<string> {
    return (await this.kms.awsManaged.ensure({ accountId, region }, service, (key) => this.#recordCreation(caller, key))).arn;
  }

  async #recordCreation(caller: ServiceCaller, key: KeyRecord): Promise<void> {
    const meta = keyMetadata(key);
    const record: ApiCallRecord = {
      ...this.#callRecord(caller, key),
      eventName: 'CreateKey',
      requestParameters: { description: key.description, keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS', policy: key.policy },
      responseElements: { keyMetadata: auditView(KMS_MODEL, 'KeyMetadata', meta) ?? null },
      readOnly: false,
    };
    try {
      await this.audit.append(record);
    } catch {
      throw new AwsError(KmsErrors.KMSInternalException, 'An internal error occurred. Retry the request.');
    }
  }

  /** What every record of a call this client makes for `caller` on `key` shares. */
  #callRecord(caller: ServiceCaller, key: KeyRecord): Omit<ApiCallRecord, 'eventName' | 'requestParameters' | 'responseElements' | 'readOnly'> {
    return {
      eventVersion: EVENT_VERSION,
      userIdentity: { type: 'AWSService', invokedBy: caller.service },
      eventTime: trailTime(Date.now()),
      eventSource: 'kms.amazonaws.com',
      awsRegion: caller.region,
      sourceIPAddress: caller.service,
      userAgent: caller.service,
      requestID: randomUUID(),
      eventID: newEventId(),
      resources: [{ accountId: key.accountId, type: 'AWS::KMS::Key', ARN: key.arn }],
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: key.accountId,
      eventCategory: 'Management',
    };
  }

  #authorize(caller: ServiceCaller, key: KeyRecord, action: string, context: Readonly<Record<string, string>>): void {
    const now = this.kms.deps.clock.now();
    const conditions: Record<string, ContextValue> = {
      'aws:SourceArn': caller.sourceArn,
      'aws:SourceAccount': caller.sourceAccount,
      'aws:PrincipalServiceName': caller.service,
      // The service calls over TLS from its own network: no source IP or user agent a policy could name.
      ...requestConditions('kms', { principal: { awsService: true }, region: caller.region, secureTransport: true, unknown: SERVICE_UNKNOWN }, now),
      ...keyConditions(key),
      ...encryptionContextConditions(context),
      ...encryptionAlgorithmCondition(action),
    };
    const request = { principal: { type: 'Service' as const, arn: caller.service }, action, resource: key.arn, context: conditions };
    const result = evaluate([{ name: 'key policy', policy: this.policies.get(key.policy, 'resource') }], request);
    if (result.decision === 'Allow') return;
    const reason = result.decision === 'Deny' ? 'with an explicit deny in a resource-based policy' : `because no resource-based policy allows the ${action} action`;
    throw new AwsError(CommonErrors.AccessDeniedException, accessDeniedMessage(request, reason));
  }

  /** The call's record in the key owner's account (the encryption context is not secret: AWS records it). */
  async #record(caller: ServiceCaller, key: KeyRecord, keyRef: string, context: Readonly<Record<string, string>>, error: unknown): Promise<ApiCallRecord> {
    const failure = error === undefined ? undefined : error instanceof AwsError ? error : new AwsError(KmsErrors.KMSInternalException, 'An internal error occurred.');
    const record: ApiCallRecord = {
      ...this.#callRecord(caller, key),
      eventName: 'GenerateDataKey',
      ...(failure ? { errorCode: failure.code, errorMessage: failure.message } : {}),
      requestParameters: { keyId: keyRef, keySpec: 'AES_256', encryptionContext: { ...context } },
      responseElements: null,
      readOnly: true,
    };
    try {
      await this.audit.append(record);
    } catch {
      // Fail closed: no data key leaves without its record.
      throw new AwsError(KmsErrors.KMSInternalException, 'An internal error occurred. Retry the request.');
    }
    return record;
  }
}
