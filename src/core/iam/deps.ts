import { InvalidationPort, TOPICS } from '../cache/invalidation.js';
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
 * Where IAM writes that can change what a principal's identity-based policies are (policies, attachments,
 * group memberships, users and roles) are announced, so cached policy sets are rebuilt after any of them, in
 * this process and in every process sharing the invalidation port (TOPICS.iamPolicies, no key: all sets).
 */
export class IamChanges {
  constructor(private readonly port: InvalidationPort) {}

  /**
   * Runs the write, then drops every cached policy set, everywhere — whether the write succeeded or failed
   * (a failed write may still have changed something: InvalidationPort's rule).
   */
  async after<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      await this.port.publish(TOPICS.iamPolicies);
    }
  }
}
