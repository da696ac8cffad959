import { AwsError, needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { AliasExistsError, AliasRecord, KeyRecord, Page } from '../../store/metadata/types.js';
import { aliasArn } from './arn.js';
import { KmsDeps, KmsScope } from './context.js';
import { needsNotPendingDeletion } from './key-state.js';

/**
 * Aliases: per account and region, `alias/` + [a-zA-Z0-9/_-], never `alias/aws/` (reserved for AWS
 * managed keys). https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
 */
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;

export function checkAliasName(name: string): void {
  needsNotReserved(name);
  needs(ALIAS_NAME.test(name), KmsErrors.InvalidAliasNameException, `Alias name ${name} must begin with 'alias/' followed by letters, digits, '/', '_' or '-'.`);
}

/**
 * `alias/aws/` names belong to AWS managed keys: CreateAlias, UpdateAlias and DeleteAlias of one are refused
 * with KMS's NotAuthorizedException and no message, before the key or the caller's rights are looked at
 * (https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html: "The alias/aws/ prefix is reserved
 * for AWS managed keys"; "You cannot manage aliases for AWS managed keys").
 */
export function needsNotReserved(name: string): void {
  needs(!name.startsWith('alias/aws/'), KmsErrors.NotAuthorizedException, '');
}

export class Aliases {
  constructor(private readonly deps: KmsDeps) {}

  async create(scope: KmsScope, aliasName: string, target: KeyRecord): Promise<void> {
    checkAliasName(aliasName);
    this.#checkTarget(scope, target);
    const now = this.deps.clock.now();
    try {
      await this.deps.store.createAlias({ ...scope, aliasName, targetKeyId: target.keyId, createdAt: now, updatedAt: now });
    } catch (err) {
      if (err instanceof AliasExistsError) {
        throw new AwsError(KmsErrors.AlreadyExistsException, `An alias with the name ${aliasArn(scope.region, scope.accountId, aliasName)} already exists`);
      }
      throw err;
    }
  }

  /** An `alias/aws/*` alias of an AWS managed key (AwsManagedKeys only; callers can never create one). */
  async createReserved(scope: KmsScope, aliasName: string, target: KeyRecord): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.store.createAlias({ ...scope, aliasName, targetKeyId: target.keyId, createdAt: now, updatedAt: now });
  }

  async update(scope: KmsScope, aliasName: string, target: KeyRecord): Promise<void> {
    this.#checkTarget(scope, target);
    const ok = await this.deps.store.updateAlias(scope.accountId, scope.region, aliasName, target.keyId, this.deps.clock.now());
    needs(ok, KmsErrors.NotFoundException, `Alias ${aliasArn(scope.region, scope.accountId, aliasName)} is not found.`);
  }

  async delete(scope: KmsScope, aliasName: string): Promise<void> {
    const ok = await this.deps.store.deleteAlias(scope.accountId, scope.region, aliasName);
    needs(ok, KmsErrors.NotFoundException, `Alias ${aliasArn(scope.region, scope.accountId, aliasName)} is not found.`);
  }

  get(scope: KmsScope, aliasName: string): Promise<AliasRecord | undefined> {
    return this.deps.store.getAlias(scope.accountId, scope.region, aliasName);
  }

  list(scope: KmsScope, keyId: string | undefined, after: string | undefined, limit: number): Promise<Page<AliasRecord>> {
    return this.deps.store.listAliases(scope.accountId, scope.region, keyId, after, limit);
  }

  #checkTarget(scope: KmsScope, target: KeyRecord): void {
    // An alias and its key live in the same account and region.
    needs(
      target.accountId === scope.accountId && target.region === scope.region,
      KmsErrors.NotFoundException,
      `Key '${target.arn}' does not exist`,
    );
    needsNotPendingDeletion(target);
  }
}
