import { Clock } from '../clock.js';
import { CredentialStore } from '../identity/credentials.js';
import { PolicyCache } from '../policy/index.js';
import { IamStore } from '../../store/metadata/iam-types.js';

/** What every part of the IAM domain works with. */
export interface IamDeps {
  readonly store: IamStore;
  readonly credentials: CredentialStore;
  readonly clock: Clock;
  /** Compiled policy documents, shared by validation and evaluation. */
  readonly policies: PolicyCache;
  readonly changes: IamChanges;
}

/**
 * Counts writes that can change what a principal's identity-based policies are (policies, attachments,
 * group memberships, users and roles), so cached policy sets are rebuilt after any of them. One process
 * sees all of its own writes; several nodes sharing one store will need cross-node invalidation.
 */
export class IamChanges {
  #generation = 0;

  get generation(): number {
    return this.#generation;
  }

  bump(): void {
    this.#generation++;
  }
}
