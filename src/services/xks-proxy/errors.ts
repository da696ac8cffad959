/**
 * The XKS Proxy API's errors ("Error codes" table of the spec): an HTTP status and a JSON body
 * {"errorName", "errorMessage"} whose message is under 512 printable ASCII characters.
 */
export const XKS_ERRORS = {
  ValidationException: 400,
  InvalidStateException: 400,
  InvalidCiphertextException: 400,
  InvalidKeyUsageException: 400,
  AuthenticationFailedException: 401,
  AccessDeniedException: 403,
  KeyNotFoundException: 404,
  InvalidUriPathException: 404,
  ThrottlingException: 429,
  UnsupportedOperationException: 501,
  DependencyTimeoutException: 503,
  InternalException: 500,
} as const;

export type XksErrorName = keyof typeof XKS_ERRORS;

export class XksError extends Error {
  readonly status: number;
  constructor(
    readonly errorName: XksErrorName,
    message: string,
    /** Overrides the table's status (405 for a method other than POST). */
    status?: number,
  ) {
    super(message);
    this.name = errorName;
    this.status = status ?? XKS_ERRORS[errorName];
  }
}
