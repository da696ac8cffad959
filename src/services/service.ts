import { AuditLog } from '../core/audit/audit-log.js';
import { recipientCopies } from '../core/audit/cross-account.js';
import { AwsError, ErrorSpec } from '../core/errors/aws-error.js';
import { AuditDetails, AuditModel, CallOutcome, auditRecord } from './audit.js';
import { Operation, RequestContext, ResourceAccess } from './operation.js';

/** Turns a protocol's decoded request into an operation's input, and its output into the wire form. */
export interface OperationCodec {
  /** Validates against the model; throws ValidationException/SerializationException-style AwsErrors. */
  decodeInput(operation: string, raw: unknown): Record<string, unknown>;
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
 */
export async function dispatch<C, A extends ResourceAccess>(
  service: ServiceDefinition<C, A>,
  op: Operation<C, any, any, A>,
  rawInput: unknown,
  request: RequestContext,
): Promise<unknown> {
  let outcome: CallOutcome = { access: [] };
  let encoded: unknown;
  try {
    const input = service.codec.decodeInput(op.name, rawInput);
    outcome = { input, access: [] };
    const call = service.context(request);
    const { access, state } = await op.resolve(input, call);
    outcome = { input, access };
    await service.authorize(call, access, input);
    service.beforeHandle?.(input);
    const output = await op.handle(input, call, state);
    encoded = service.codec.encodeOutput(op.name, output);
    outcome = { input, access, output };
  } catch (err) {
    outcome = { ...outcome, error: err };
  }
  try {
    if (!service.audit) throw new Error('no audit log');
    // The caller's account gets the record; the owner of each other account's resource the call reached gets its copy.
    const owners = outcome.access.flatMap((a) => (a.ownerAccountId !== undefined ? [a.ownerAccountId] : []));
    await service.audit.appendAll(recipientCopies(auditRecord(service, op, request, outcome, Date.now()), owners));
  } catch {
    throw new AwsError(service.internalError, 'An internal error occurred. Retry the request.');
  }
  if (outcome.error !== undefined) throw outcome.error;
  return encoded;
}
