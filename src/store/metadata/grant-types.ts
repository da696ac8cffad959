import { Page } from './types.js';

/**
 * The KMS grant store: grants live on the shared metadata database, one row per grant, removed with their
 * key (ON DELETE CASCADE). test/contract/grant-store.contract.ts runs against every implementation.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
 */

/** At most one of the two is set (CreateGrant refuses both). Keys and values as the creator gave them. */
export interface GrantConstraintsRecord {
  readonly encryptionContextEquals?: Readonly<Record<string, string>>;
  readonly encryptionContextSubset?: Readonly<Record<string, string>>;
}

/** A grant as CreateGrant makes it (the store adds the key's ARN when it reads one back). */
export interface NewGrant {
  /** 64 hex characters. */
  readonly grantId: string;
  readonly keyId: string;
  readonly name: string | null;
  /** An ARN (or a service principal) exactly as CreateGrant was given it. */
  readonly granteePrincipal: string;
  readonly retiringPrincipal: string | null;
  /** The account of the principal that created the grant (ListGrants' IssuingAccount). */
  readonly issuingAccountId: string;
  /** Grant operations in the order given, without duplicates. */
  readonly operations: readonly string[];
  readonly constraints: GrantConstraintsRecord | null;
  readonly createdAt: number;
}

export interface GrantRecord extends NewGrant {
  readonly keyArn: string;
}

export type CreateGrantResult =
  | { readonly outcome: 'created' | 'existing'; readonly grant: GrantRecord }
  | { readonly outcome: 'limit-exceeded' };

export interface GrantListFilter {
  readonly grantId?: string;
  readonly granteePrincipal?: string;
}

export interface GrantStore {
  /**
   * Adds a grant, atomically with two checks:
   * - Name idempotence: when `grant.name` is set and the key already has a grant with that name and the same
   *   grantee, retiring principal, operations (as a set) and constraints, nothing is added and that grant is
   *   the result (`existing`).
   * - The key's grant quota: when the key already has `maxPerKey` grants, nothing is added (`limit-exceeded`).
   * The key must exist.
   */
  createGrant(grant: NewGrant, maxPerKey: number): Promise<CreateGrantResult>;
  getGrant(grantId: string): Promise<GrantRecord | undefined>;
  /** The key's grants in creation order, optionally only one grant id or one grantee. */
  listGrants(keyId: string, filter: GrantListFilter, after: string | undefined, limit: number): Promise<Page<GrantRecord>>;
  /** Grants on keys in `region` (any account) whose retiring principal is `retiringPrincipal`, in creation order. */
  listRetirableGrants(retiringPrincipal: string, region: string, after: string | undefined, limit: number): Promise<Page<GrantRecord>>;
  /** Every grant on the key whose grantee principal is exactly `granteePrincipal` (the authorization path). */
  grantsFor(keyId: string, granteePrincipal: string): Promise<readonly GrantRecord[]>;
  /** Removes the grant when it is on that key; false when there is no such grant. */
  deleteGrant(keyId: string, grantId: string): Promise<boolean>;
  countGrants(keyId: string): Promise<number>;
}
