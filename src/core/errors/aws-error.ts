/**
 * A typed AWS error. Core and services throw these; the protocol that claimed the request renders them
 * once (status, wire code, message). The message is "safe": it never carries a secret or a plaintext.
 */
export type Fault = 'client' | 'server';

export interface ErrorSpec {
  /** Wire code, e.g. `NotFoundException` (the `__type` of AWS JSON, the `<Code>` of XML protocols). */
  readonly code: string;
  readonly status: number;
  readonly fault: Fault;
  /** Whether the SDKs may retry it (documentation for callers and for the audit record). */
  readonly retryable?: boolean;
}

export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fault: Fault;
  readonly retryable: boolean;

  constructor(spec: ErrorSpec, message: string) {
    super(message);
    this.name = spec.code;
    this.code = spec.code;
    this.status = spec.status;
    this.fault = spec.fault;
    this.retryable = spec.retryable ?? false;
  }
}

/** A catalog is a frozen table of specs; `raise(catalog.X, msg)` reads like the AWS documentation. */
export function defineErrors<T extends Record<string, Omit<ErrorSpec, 'code'>>>(
  table: T,
): { readonly [K in keyof T]: ErrorSpec } {
  const out: Record<string, ErrorSpec> = {};
  for (const [code, spec] of Object.entries(table)) out[code] = Object.freeze({ code, ...spec });
  return Object.freeze(out) as { readonly [K in keyof T]: ErrorSpec };
}

export function awsError(spec: ErrorSpec, message: string): AwsError {
  return new AwsError(spec, message);
}

/** Named precondition: `needs(cond, KmsErrors.X, 'message')` throws the typed error when cond is false. */
export function needs(condition: unknown, spec: ErrorSpec, message: string): asserts condition {
  if (!condition) throw new AwsError(spec, message);
}
