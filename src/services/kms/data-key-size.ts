import { needs } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';

const KEY_SPEC_BYTES: Record<string, number> = { AES_256: 32, AES_128: 16 };

/** GenerateDataKey*: exactly one of KeySpec and NumberOfBytes (the model already bounds 1–1024). */
export function dataKeyBytes(input: { KeySpec?: string; NumberOfBytes?: number }): number {
  needs(
    (input.KeySpec === undefined) !== (input.NumberOfBytes === undefined),
    CommonErrors.ValidationException,
    'Please specify either number of bytes or key spec.',
  );
  return input.NumberOfBytes ?? KEY_SPEC_BYTES[input.KeySpec!]!;
}
