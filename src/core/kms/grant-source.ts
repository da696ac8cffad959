import { keyRowId } from '../../store/metadata/types.js';
import { GrantQuery, GrantSource } from '../policy/sources.js';
import { GrantConstraintsRecord, GrantRecord, GrantStore } from '../../store/metadata/grant-types.js';
import { atLeastAsStrict, constraintsHold } from './grant-constraints.js';
import { ENCRYPTION_CONTEXT_OPERATIONS } from './grant-operations.js';
import { callerPrincipals } from './grant-principals.js';
import { CreateGrantParams } from './grant-request.js';
import { grantIdsOfTokens } from './grant-token.js';

/** What a CreateGrant request would create: a grant used for CreateGrant bounds it. */
export interface ChildGrant {
  readonly operations: readonly string[];
  readonly constraints: GrantConstraintsRecord | null;
}

/**
 * The grant question, plus — for operation `CreateGrant` — the grant being created. Without `createGrant`
 * no grant allows CreateGrant: a grant can only let its grantee create grants that are equally or more
 * restrictive, which cannot be judged without knowing the new grant.
 */
export interface KmsGrantQuery extends GrantQuery {
  readonly createGrant?: ChildGrant;
}

/** The child grant of a CreateGrant input, for `KmsGrantQuery.createGrant` (reads the input; never throws). */
export function childGrantOf(input: Pick<CreateGrantParams, 'Operations' | 'Constraints'>): ChildGrant {
  const c = input.Constraints;
  return {
    operations: [...new Set(input.Operations ?? [])],
    constraints:
      c?.EncryptionContextEquals !== undefined
        ? { encryptionContextEquals: c.EncryptionContextEquals }
        : c?.EncryptionContextSubset !== undefined
          ? { encryptionContextSubset: c.EncryptionContextSubset }
          : null,
  };
}

/**
 * Whether a grant on the key allows the caller the operation.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
 * - The grant names the caller as its grantee: the caller's ARN exactly, or for a role session its role.
 * - The grant lists the operation; each operation is listed on its own (GenerateDataKey does not cover
 *   GenerateDataKeyWithoutPlaintext, ReEncryptFrom and ReEncryptTo are separate).
 * - Its constraints hold for the request's encryption context (cryptographic operations only), or for
 *   CreateGrant the new grant is equally or more restrictive (operations a subset, constraints as strict).
 * - RetireGrant is never answered here: who may retire a grant depends on that grant (its retiring principal,
 *   or its grantee when it lists RetireGrant), which RetireGrant itself checks; a grant with RetireGrant must
 *   not let its grantee retire the key's other grants.
 * Grant tokens: every token must be well formed (InvalidGrantTokenException otherwise); the grants they name
 * are read directly, so a grant created on another node counts at once through its token, whatever the
 * cache holds. The (key, grantee) lookups go through the store, which caches them (GrantCachingStore).
 */
export class KmsGrantSource implements GrantSource {
  constructor(private readonly store: GrantStore) {}

  async allows(query: KmsGrantQuery): Promise<boolean> {
    const tokenGrantIds = grantIdsOfTokens(query.grantTokens);
    if (query.operation === 'RetireGrant') return false;
    const names = callerPrincipals(query.principal);
    const grants =
      names.length === 1
        ? await this.store.grantsFor(keyRowId(query.key), names[0]!)
        : (await Promise.all(names.map((name) => this.store.grantsFor(keyRowId(query.key), name)))).flat();
    if (grants.some((g) => grantAllows(g, query))) return true;
    for (const grantId of tokenGrantIds) {
      if (grants.some((g) => g.grantId === grantId)) continue;
      const g = await this.store.getGrant(grantId);
      if (g && g.keyId === keyRowId(query.key) && names.includes(g.granteePrincipal) && grantAllows(g, query)) return true;
    }
    return false;
  }
}

/** Whether this grant (already known to name the caller) allows the query's operation. */
export function grantAllows(grant: GrantRecord, query: KmsGrantQuery): boolean {
  if (!grant.operations.includes(query.operation)) return false;
  if (query.operation === 'CreateGrant') {
    const child = query.createGrant;
    return (
      child !== undefined &&
      child.operations.every((op) => grant.operations.includes(op)) &&
      atLeastAsStrict(child.constraints, grant.constraints)
    );
  }
  if (grant.constraints === null || !ENCRYPTION_CONTEXT_OPERATIONS.has(query.operation)) return true;
  return constraintsHold(grant.constraints, query.encryptionContext);
}
