import { needs } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';

/**
 * The botocore model leaves CiphertextBlob optional on Decrypt and ReEncrypt (Decrypt's Recipient form),
 * but a symmetric Decrypt without one is a validation error on AWS.
 */
export function needsCiphertextBlob(blob: Buffer | undefined): asserts blob is Buffer {
  needs(
    blob !== undefined,
    CommonErrors.ValidationException,
    "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
  );
}
