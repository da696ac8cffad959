import { Principal } from '../identity/principal.js';
import { EncryptionContext } from '../crypto/encryption-context.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { NamedPolicy } from './evaluate.js';

/**
 * Where the authorizer gets what it evaluates besides the resource's own policy. Implementations live
 * with their domains (IAM: core/iam; grants: core/kms/grants) and are wired in app.ts.
 */

/** The caller's identity-based policies: for a user its inline and attached managed policies and its
 * groups' ones; for a role session the role's. Compiled (parse once, cache). Root has none. */
export interface IdentityPolicySource {
  policiesFor(principal: Principal): Promise<readonly NamedPolicy[]>;
}

export interface GrantQuery {
  readonly key: KeyRecord;
  readonly principal: Principal;
  /** The grant operation, e.g. `Decrypt`, `ReEncryptFrom`, `GenerateDataKey` (the action without `kms:`). */
  readonly operation: string;
  /** The request's encryption context, checked against the grant's constraints. */
  readonly encryptionContext?: EncryptionContext;
  /** Grant tokens sent with the request (a grant is usable at once through its token). */
  readonly grantTokens?: readonly string[];
  /**
   * For CreateGrant: the grant the request would create. A grant allowing CreateGrant only allows creating
   * grants that are equally or more restrictive, so without this no grant allows CreateGrant.
   */
  readonly createGrant?: {
    readonly operations: readonly string[];
    readonly constraints: {
      readonly encryptionContextEquals?: Readonly<Record<string, string>>;
      readonly encryptionContextSubset?: Readonly<Record<string, string>>;
    } | null;
  };
}

/** Whether a grant on the key allows the caller this operation. */
export interface GrantSource {
  allows(query: GrantQuery): Promise<boolean>;
}

/** Until IAM exists: nobody has identity-based policies. */
export const NO_IDENTITY_POLICIES: IdentityPolicySource = { policiesFor: async () => [] };
/** Until grants exist: no grant allows anything. */
export const NO_GRANTS: GrantSource = { allows: async () => false };
