import { AwsError, needs } from '../errors/aws-error.js';
import { CommonErrors } from '../errors/common.js';
import { KmsErrors } from '../errors/kms.js';
import { Principal } from '../identity/principal.js';
import { GrantListFilter, GrantRecord, GrantStore } from '../../store/metadata/grant-types.js';
import { KeyRecord, Page, keyRowId } from '../../store/metadata/types.js';
import { KmsDeps, KmsScope } from './context.js';
import { callerPrincipals } from './grant-principals.js';
import { GrantRequest } from './grant-request.js';
import { KmsGrantSource } from './grant-source.js';
import { GRANT_ID, grantIdOfToken, newGrantId, newGrantToken } from './grant-token.js';
import { needsEnabled } from './key-state.js';
import { KeyResolver } from './resolver.js';

/**
 * "Grants for a KMS key: 50,000" — the KMS quota (CreateGrant beyond it is LimitExceededException).
 * https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html
 */
export const MAX_GRANTS_PER_KEY = 50_000;

export interface CreatedGrant {
  readonly grantId: string;
  /** A fresh token on every call, even when Name idempotence returned an existing grant. */
  readonly grantToken: string;
}

/** How RetireGrant names its grant: a grant token, or a key and a grant id. */
export interface RetireTarget {
  readonly GrantToken?: string;
  readonly KeyId?: string;
  readonly GrantId?: string;
}

export interface GrantsOptions {
  readonly maxGrantsPerKey?: number;
}

/**
 * The grant store of a Kms built without one: every call fails (an internal error to the caller) rather than
 * silently keeping grants nowhere durable. app.ts passes `sqliteGrantStore(database)`.
 */
const unwired = async (): Promise<never> => {
  throw new Error('KMS grants are not wired: construct Kms with { grants: sqliteGrantStore(database) }');
};
export const UNWIRED_GRANT_STORE: GrantStore = {
  createGrant: unwired,
  getGrant: unwired,
  listGrants: unwired,
  listRetirableGrants: unwired,
  grantsFor: unwired,
  deleteGrant: unwired,
  countGrants: unwired,
};

export function checkGrantId(grantId: string): void {
  needs(GRANT_ID.test(grantId), KmsErrors.InvalidGrantIdException, 'Invalid grant ID');
}

/**
 * KMS grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant, and (`source`) the
 * GrantSource the authorizer consults. https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
 * Key states (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html): CreateGrant needs an
 * enabled key (Disabled → DisabledException, PendingDeletion → KMSInvalidStateException); listing, retiring
 * and revoking work in every state. Grants go with their key (ON DELETE CASCADE).
 */
export class Grants {
  readonly source: KmsGrantSource;
  readonly #maxPerKey: number;

  constructor(
    private readonly deps: KmsDeps,
    private readonly store: GrantStore,
    options: GrantsOptions = {},
  ) {
    this.source = new KmsGrantSource(store);
    this.#maxPerKey = options.maxGrantsPerKey ?? MAX_GRANTS_PER_KEY;
  }

  /**
   * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html — with a Name, a retry with the
   * same parameters returns the grant it created (a new token each time, usable interchangeably).
   */
  async create(key: KeyRecord, issuer: Principal, request: GrantRequest): Promise<CreatedGrant> {
    needsEnabled(key);
    const result = await this.store.createGrant(
      {
        grantId: newGrantId(),
        keyId: keyRowId(key),
        name: request.name,
        granteePrincipal: request.granteePrincipal,
        retiringPrincipal: request.retiringPrincipal,
        issuingAccountId: issuer.accountId,
        operations: request.operations,
        constraints: request.constraints,
        createdAt: this.deps.clock.now(),
      },
      this.#maxPerKey,
    );
    if (result.outcome === 'limit-exceeded') {
      throw new AwsError(KmsErrors.LimitExceededException, `Key '${key.arn}' already has the maximum number of grants (${this.#maxPerKey}).`);
    }
    return { grantId: result.grant.grantId, grantToken: newGrantToken(result.grant.grantId) };
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListGrants.html */
  list(key: KeyRecord, filter: GrantListFilter, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    if (filter.grantId !== undefined) checkGrantId(filter.grantId);
    return this.store.listGrants(keyRowId(key), filter, after, limit);
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListRetirableGrants.html — keys of any account, in the caller's region. */
  listRetirable(scope: KmsScope, retiringPrincipal: string, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    return this.store.listRetirableGrants(retiringPrincipal, scope.region, after, limit);
  }

  /**
   * The grant RetireGrant names, with its key: by grant token, or by key (id or ARN) and grant id.
   * A grant that does not exist (any more) on that key is NotFoundException.
   */
  async findToRetire(scope: KmsScope, resolver: KeyResolver, target: RetireTarget): Promise<{ grant: GrantRecord; key: KeyRecord }> {
    if (target.GrantToken !== undefined) {
      const grantId = grantIdOfToken(target.GrantToken);
      const grant = await this.store.getGrant(grantId);
      const key = grant ? await resolver.byIdAnywhere(grant.keyId) : undefined;
      needs(grant && key && key.region === scope.region, KmsErrors.NotFoundException, `Grant ID ${grantId} not found`);
      return { grant, key };
    }
    needs(
      target.KeyId !== undefined && target.GrantId !== undefined,
      CommonErrors.ValidationException,
      'RetireGrant needs a GrantToken, or both a KeyId and a GrantId.',
    );
    const key = await resolver.resolve(scope, target.KeyId, { aliases: false });
    return { grant: await this.#onKey(key, target.GrantId), key };
  }

  /**
   * Whether the grant itself lets the caller retire it: its retiring principal, or its grantee when it lists
   * RetireGrant. (The key's account, and principals it delegates kms:RetireGrant to, are authorized by the
   * key policy and IAM policies instead.) https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html
   */
  grantLetsRetire(caller: Principal, grant: GrantRecord): boolean {
    const names = callerPrincipals(caller);
    return (
      (grant.retiringPrincipal !== null && names.includes(grant.retiringPrincipal)) ||
      (grant.operations.includes('RetireGrant') && names.includes(grant.granteePrincipal))
    );
  }

  async retire(grant: GrantRecord): Promise<void> {
    // Gone meanwhile (a concurrent retire or revoke): the grant no longer exists either way.
    needs(await this.store.deleteGrant(grant.keyId, grant.grantId), KmsErrors.NotFoundException, `Grant ID ${grant.grantId} not found`);
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_RevokeGrant.html */
  async revoke(key: KeyRecord, grantId: string): Promise<void> {
    const grant = await this.#onKey(key, grantId);
    needs(await this.store.deleteGrant(keyRowId(key), grant.grantId), KmsErrors.NotFoundException, `Grant ID ${grantId} not found`);
  }

  async #onKey(key: KeyRecord, grantId: string): Promise<GrantRecord> {
    checkGrantId(grantId);
    const grant = await this.store.getGrant(grantId);
    needs(grant && grant.keyId === keyRowId(key), KmsErrors.NotFoundException, `Grant ID ${grantId} not found for key '${key.arn}'`);
    return grant;
  }
}
