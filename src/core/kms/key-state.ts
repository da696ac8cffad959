import { needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord } from '../../store/metadata/types.js';

/**
 * Which key states each kind of operation accepts, and the error each other state gets.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
 */

/**
 * Cryptographic operations and rotation: Enabled only; Disabled → DisabledException; PendingDeletion and
 * PendingImport (imported material missing) → KMSInvalidStateException.
 */
export function needsEnabled(key: KeyRecord): void {
  needsNotPendingDeletion(key);
  needsNotPendingImport(key);
  needs(key.keyState === 'Enabled', KmsErrors.DisabledException, `${key.arn} is disabled.`);
}

/** EnableKey, DisableKey and every use of the key refuse a key without (all of) its imported material. */
export function needsNotPendingImport(key: KeyRecord): void {
  needs(key.keyState !== 'PendingImport', KmsErrors.KMSInvalidStateException, `${key.arn} is pending import.`);
}

/** Management operations refuse a key that is pending deletion. */
export function needsNotPendingDeletion(key: KeyRecord): void {
  needs(key.keyState !== 'PendingDeletion', KmsErrors.KMSInvalidStateException, `${key.arn} is pending deletion.`);
  needs(key.keyState !== 'PendingReplicaDeletion', KmsErrors.KMSInvalidStateException, `${key.arn} is pending replica deletion.`);
}

/** AWS managed keys cannot be changed by their account. */
export function needsCustomerManaged(key: KeyRecord, operation: string): void {
  needs(
    key.keyManager === 'CUSTOMER',
    KmsErrors.UnsupportedOperationException,
    `${key.arn} is an AWS managed key; ${operation} is not supported for AWS managed keys.`,
  );
}
