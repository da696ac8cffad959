import { TlsDetails } from '../core/audit/record.js';
import { Principal } from '../core/identity/principal.js';

/** What every operation knows of the request that carries it. */
export interface RequestContext {
  readonly requestId: string;
  readonly principal: Principal;
  /** The region of the request's SigV4 credential scope. */
  readonly region: string;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly secureTransport: boolean;
  /** The TLS session and Host header, when the request came over HTTPS (the audit record's tlsDetails). */
  readonly tlsDetails?: TlsDetails;
  /**
   * Set when another service calls on the caller's behalf (kms:ViaService, e.g. `s3.us-east-1.amazonaws.com`);
   * the principal stays the caller.
   */
  readonly viaService?: string;
}

/** One authorization question: may the caller perform `action` on `resource` (an ARN, or '*')? */
export interface ResourceAccess {
  readonly action: string;
  readonly resource: string;
  /**
   * The account that owns the resource, when it exists (its policy decides about callers from other
   * accounts). When it is not the caller's, that account gets its own copy of the call's record.
   */
  readonly ownerAccountId?: string;
}

/**
 * One row of a service's operation table. The dispatcher validates the input against the model,
 * calls `resolve` to find the resources, authorizes every ResourceAccess it returns, and only then
 * calls `handle` with what `resolve` found. No handler can skip authorization (or, later, audit).
 */
export interface Operation<C, I = any, S = any, A extends ResourceAccess = ResourceAccess> {
  /** Wire name, e.g. `Decrypt`. */
  readonly name: string;
  /** The IAM action that names this operation, e.g. `kms:Decrypt`. */
  readonly action: string;
  readonly readOnly: boolean;
  readonly resolve: (input: I, ctx: C) => Promise<{ access: A[]; state: S }>;
  readonly handle: (input: I, ctx: C, state: S) => Promise<Record<string, unknown>>;
}

export function defineOperation<C, I, S, A extends ResourceAccess = ResourceAccess>(op: Operation<C, I, S, A>): Operation<C, I, S, A> {
  return op;
}
