import { needs } from '../../core/errors/aws-error.js';
import { KmsErrors } from '../../core/errors/kms.js';

/**
 * Strongroom's keys are SYMMETRIC_DEFAULT (AES-256-GCM). Parameters that only make sense for other key
 * types are refused with the error AWS gives a symmetric key.
 */
export function needsSymmetricAlgorithm(algorithm: string | undefined): void {
  needs(
    algorithm === undefined || algorithm === 'SYMMETRIC_DEFAULT',
    KmsErrors.InvalidKeyUsageException,
    `The encryption algorithm ${algorithm} is not compatible with the key spec SYMMETRIC_DEFAULT.`,
  );
}

/** Recipient (Nitro Enclaves attestation) needs an enclave to attest; none exists here. */
export function needsNoRecipient(recipient: unknown): void {
  needs(recipient === undefined, KmsErrors.UnsupportedOperationException, 'Recipient (Nitro Enclaves attestation) is not supported.');
}
