/**
 * A sealed object body that does not open: a flipped bit, a wrong key or binding, packages swapped,
 * cut short or extended. The message names the package, never a key or plaintext byte. The S3 layer
 * answers it as an internal error (the stored data is bad, not the request).
 */
export type SealedDataFailure = 'header' | 'authentication' | 'truncated' | 'extended';

export class SealedDataError extends Error {
  override readonly name = 'SealedDataError';

  constructor(
    readonly failure: SealedDataFailure,
    message: string,
  ) {
    super(message);
  }
}
