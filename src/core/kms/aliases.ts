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

/**
 * The `alias/aws/*` aliases AWS predefines in every account and region, sorted: ListAliases shows each, without
 * a TargetKeyId (nor dates), until its service first makes the AWS managed key behind it (aws-managed-keys.ts);
 * from then on the real alias is listed instead. They are not stored: every node lists the same ones.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html ("The response might also include
 * aliases that have no TargetKeyId field. These are predefined aliases that AWS has created but has not yet
 * associated with a KMS key.")
 */
export const PREDEFINED_AWS_ALIASES: readonly string[] = [
  'acm', 'dynamodb', 'ebs', 'elasticfilesystem', 'es', 'glue', 'kinesisvideo', 'lambda', 'rds', 'redshift', 's3', 'secretsmanager', 'ssm', 'xray',
].map((service) => `alias/aws/${service}`);

/** An alias as ListAliases shows it: a stored one, or a predefined one with no key yet (no target, no dates). */
export type ListedAlias = AliasRecord | (Pick<AliasRecord, 'accountId' | 'region' | 'aliasName'> & { readonly targetKeyId?: undefined });

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

  /**
   * A page of the scope's aliases in name order: the stored ones and, unless the listing is for one key, the
   * predefined AWS aliases not stored yet, merged. The store's page covers every stored name up to its last
   * one (all of them when not truncated), so a predefined name in that range that it lacks is not stored.
   */
  async list(scope: KmsScope, keyId: string | undefined, after: string | undefined, limit: number): Promise<Page<ListedAlias>> {
    const page = await this.deps.store.listAliases(scope.accountId, scope.region, keyId, after, limit);
    if (keyId !== undefined) return page;
    const stored = new Set(page.items.map((a) => a.aliasName));
    const upTo = page.next;
    const predefined = PREDEFINED_AWS_ALIASES.filter((name) => (after === undefined || name > after) && (upTo === undefined || name <= upTo) && !stored.has(name));
    if (predefined.length === 0) return page;
    const merged: ListedAlias[] = [...page.items, ...predefined.map((aliasName) => ({ ...scope, aliasName }))].sort((a, b) =>
      a.aliasName < b.aliasName ? -1 : a.aliasName > b.aliasName ? 1 : 0,
    );
    if (merged.length > limit) {
      const items = merged.slice(0, limit);
      return { items, next: items[limit - 1]!.aliasName };
    }
    return upTo === undefined ? { items: merged } : { items: merged, next: upTo };
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
