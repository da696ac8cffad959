import { AuditLog } from '../core/audit/audit-log.js';
import { recipientCopies } from '../core/audit/cross-account.js';
import { ApiCallRecord } from '../core/audit/record.js';
import { SecretBytes } from '../core/crypto/secret-bytes.js';
import { AwsError, ErrorSpec } from '../core/errors/aws-error.js';
import { AuditDetails, AuditModel, CallOutcome, auditRecord } from './audit.js';
import { Operation, RequestContext, ResourceAccess } from './operation.js';

/** One more record of a call: as if `op` had been called with `request` and had `outcome`. */
export interface CompanionRecord<C, A extends ResourceAccess> {
  readonly op: Operation<C, any, any, A>;
  readonly request: RequestContext;
  readonly outcome: CallOutcome;
}

/** Turns a protocol's decoded request into an operation's input, and its output into the wire form. */
export interface OperationCodec {
  /** Validates against the model; throws ValidationException/SerializationException-style AwsErrors. */
  decodeInput(operation: string, raw: unknown): Record<string, unknown>;
  /**
   * The typed entry's validation (dispatchTyped): the input is already in decodeInput's output form and is
   * checked against the same constraints, with the same errors. A codec without it has no typed entry.
   */
  checkInput?(operation: string, input: Record<string, unknown>): Record<string, unknown>;
  encodeOutput(operation: string, output: Record<string, unknown>): unknown;
  /** The botocore model: the audit record shows its non-sensitive members. */
  readonly model: AuditModel;
}

/** A service as the protocols see it: a signing name, an operation table, a codec, an authorizer. */
export interface ServiceDefinition<C, A extends ResourceAccess = ResourceAccess> {
  /** SigV4 signing name (credential scope service), e.g. `kms`. */
  readonly signingName: string;
  readonly operations: ReadonlyMap<string, Operation<C, any, any, A>>;
  readonly codec: OperationCodec;
  /** The error an unexpected failure is reported as (retryable), e.g. KMSInternalException. */
  readonly internalError: ErrorSpec;
  context(request: RequestContext): C;
  /** Decides every access the operation's `resolve` returned; throws the service's AccessDenied error. */
  authorize(call: C, access: readonly A[], input: Record<string, unknown>): Promise<void>;
  /** Runs after authorization, before the handler (KMS: DryRun stops here). */
  beforeHandle?(input: Record<string, unknown>): void;
  /** The audit record's responseElements (default: null for read-only operations, else the non-secret output). */
  responseElements?(operation: string, output: Record<string, unknown>): Record<string, unknown> | null;
  /** What the record says of a call, for services not described by a model (S3). */
  auditDetails?(operation: string, request: RequestContext, outcome: CallOutcome): AuditDetails;
  /**
   * Told of each call that succeeded, once its records are committed (the caller's first, then each other
   * owner's copy): KMS notes a key's last use with the CloudTrail eventID its owner sees. Must be cheap and not throw.
   */
  succeeded?(operation: string, access: readonly A[], records: readonly ApiCallRecord[]): void;
  /**
   * Records a successful call makes besides its own, committed with it, all or none (KMS: a ReplicateKey is
   * also a CreateKey record in the replica's Region, https://docs.aws.amazon.com/kms/latest/developerguide/ct-replicate-key.html).
   */
  companionRecords?(operation: string, request: RequestContext, outcome: CallOutcome): readonly CompanionRecord<C, A>[];
  /** Where every call's record is committed (app.ts sets it; without it, dispatch refuses every call). */
  readonly audit?: AuditLog;
}

/**
 * The one path every operation takes, for every protocol and for internal calls (a service calling
 * another as the user, e.g. S3 calling KMS with kms:ViaService):
 * validate → resolve resources → authorize each → handle → encode → audit record committed.
 * Every call that reached an operation — allowed, denied, invalid or failed — gets one CloudTrail record,
 * committed before the answer leaves (and a copy for each other account whose existing resource it reached:
 * core/audit/cross-account.ts; ResourceAccess.ownerAccountId names them). Fail closed: when the record cannot be committed, the caller gets the
 * service's internal error (retryable), never an unrecorded answer. (Requests that fail authentication never
 * get here and are not recorded, as AWS does not record requests with invalid signatures.)
 * This is the wire entry: `rawInput` is the protocol's decoded body, the answer the operation's wire form.
 */
export async function dispatch<C, A extends ResourceAccess>(
  service: ServiceDefinition<C, A>,
  op: Operation<C, any, any, A>,
  rawInput: unknown,
  request: RequestContext,
): Promise<unknown> {
  return run(service, op, request, () => service.codec.decodeInput(op.name, rawInput), (output) => service.codec.encodeOutput(op.name, output), DURABLE);
}

/** How a call's record must be committed before dispatch returns. */
export interface RecordDurability {
  /**
   * true: dispatch returns once the record is committed (in the log's order, after every earlier one) but
   * before it is durable. Only for a call made inside another call whose own record is committed later and
   * awaited durable before its answer leaves (S3's dispatch, for the KMS calls of an SSE-KMS request): that
   * one sync covers this record too, so the request pays one fsync, not one per record. If the commit
   * itself fails the call fails (fail closed), as always.
   */
  readonly durableWithCaller: boolean;
}
const DURABLE: RecordDurability = { durableWithCaller: false };

/**
 * The typed entry, for a service calling another in-process (services/kms/kms-client.ts): the same path as
 * dispatch — the same resolve, authorize, handle and audit record — but `input` is already in the decoded
 * form (Buffers, SecretBytes; no base64 or JSON) and is checked once by the codec's typed check of the same
 * constraints, and the answer is the handler's own output (a data key stays SecretBytes, for the caller to
 * wipe). Nothing here bypasses authorization or audit: only the decoding and encoding are skipped.
 */
export async function dispatchTyped<C, A extends ResourceAccess>(
  service: ServiceDefinition<C, A>,
  op: Operation<C, any, any, A>,
  input: Record<string, unknown>,
  request: RequestContext,
  durability: RecordDurability = DURABLE,
): Promise<Record<string, unknown>> {
  const check = service.codec.checkInput?.bind(service.codec);
  if (!check) throw new Error(`${service.signingName} has no typed entry`);
  return run(service, op, request, () => check(op.name, input), (output) => output, durability);
}

async function run<C, A extends ResourceAccess, R>(
  service: ServiceDefinition<C, A>,
  op: Operation<C, any, any, A>,
  request: RequestContext,
  validate: () => Record<string, unknown>,
  answer: (output: Record<string, unknown>) => R,
  durability: RecordDurability,
): Promise<R> {
  let outcome: CallOutcome = { access: [] };
  let result: R | undefined;
  let records: ApiCallRecord[];
  try {
    const input = validate();
    outcome = { input, access: [] };
    const call = service.context(request);
    const { access, state } = await op.resolve(input, call);
    outcome = { input, access };
    await service.authorize(call, access, input);
    service.beforeHandle?.(input);
    const output = await op.handle(input, call, state);
    result = answer(output);
    outcome = { input, access, output };
  } catch (err) {
    outcome = { ...outcome, error: err };
  }
  try {
    if (!service.audit) throw new Error('no audit log');
    // The caller's account gets the record; the owner of each other account's resource the call reached gets its copy.
    const owners = outcome.access.flatMap((a) => (a.ownerAccountId !== undefined ? [a.ownerAccountId] : []));
    const now = Date.now();
    records = recipientCopies(auditRecord(service, op, request, outcome, now), owners);
    if (outcome.error === undefined && service.companionRecords) {
      for (const c of service.companionRecords(op.name, request, outcome)) records.push(auditRecord(service, c.op, c.request, c.outcome, now));
    }
    await (durability.durableWithCaller ? service.audit.appendCommitted(records) : service.audit.appendAll(records));
  } catch {
    wipeSecrets(outcome.output);
    throw new AwsError(service.internalError, 'An internal error occurred. Retry the request.');
  }
  if (outcome.error !== undefined) throw outcome.error;
  service.succeeded?.(op.name, outcome.access as readonly A[], records);
  return result as R;
}

/** An answer that will not leave (its record failed): its secrets (a data key, a plaintext) are wiped now. */
function wipeSecrets(output: Record<string, unknown> | undefined): void {
  for (const v of Object.values(output ?? {})) if (v instanceof SecretBytes) v.wipe();
}
