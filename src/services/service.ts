import { ErrorSpec } from '../core/errors/aws-error.js';
import { Operation, RequestContext, ResourceAccess } from './operation.js';

/** Turns a protocol's decoded request into an operation's input, and its output into the wire form. */
export interface OperationCodec {
  /** Validates against the model; throws ValidationException/SerializationException-style AwsErrors. */
  decodeInput(operation: string, raw: unknown): Record<string, unknown>;
  encodeOutput(operation: string, output: Record<string, unknown>): unknown;
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
}

/**
 * The one path every operation takes, for every protocol and for internal calls (a service calling
 * another as the user, e.g. S3 calling KMS with kms:ViaService):
 * validate → resolve resources → authorize each → handle → encode.
 * (The audit record of the audit issue hooks in here, once, for every service.)
 */
export async function dispatch<C, A extends ResourceAccess>(
  service: ServiceDefinition<C, A>,
  op: Operation<C, any, any, A>,
  rawInput: unknown,
  request: RequestContext,
): Promise<unknown> {
  const input = service.codec.decodeInput(op.name, rawInput);
  const call = service.context(request);
  const { access, state } = await op.resolve(input, call);
  await service.authorize(call, access, input);
  service.beforeHandle?.(input);
  const output = await op.handle(input, call, state);
  return service.codec.encodeOutput(op.name, output);
}
