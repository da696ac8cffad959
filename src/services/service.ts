import { ErrorSpec } from '../core/errors/aws-error.js';
import { Authorizer } from '../core/policy/authorizer.js';
import { Operation, RequestContext } from './operation.js';
import { ShapeCodec } from './shapes.js';

/** A service as the protocols see it: a signing name, an operation table, a model and a per-request context. */
export interface ServiceDefinition<C> {
  /** SigV4 signing name (credential scope service), e.g. `kms`. */
  readonly signingName: string;
  readonly operations: ReadonlyMap<string, Operation<C>>;
  readonly codec: ShapeCodec;
  /** The error an unexpected failure is reported as (retryable), e.g. KMSInternalException. */
  readonly internalError: ErrorSpec;
  context(request: RequestContext): C;
  /** Runs after authorization, before the handler (KMS: DryRun stops here). */
  beforeHandle?(input: Record<string, unknown>): void;
}

/**
 * The one path every operation takes: validate → resolve resources → authorize each → handle → encode.
 * (The audit record of the access-control/audit issues hooks in here, once, for every service.)
 */
export async function dispatch<C>(
  service: ServiceDefinition<C>,
  op: Operation<C>,
  rawInput: unknown,
  request: RequestContext,
  authorizer: Authorizer,
): Promise<Record<string, unknown>> {
  const input = service.codec.decodeInput(op.name, rawInput);
  const call = service.context(request);
  const { access, state } = await op.resolve(input, call);
  for (const a of access) authorizer.authorize({ principal: request.principal, ...a });
  service.beforeHandle?.(input);
  const output = await op.handle(input, call, state);
  return service.codec.encodeOutput(op.name, output);
}
