import { AwsError } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord, keyRowId } from '../../store/metadata/types.js';
import { keyArn, parseKmsArn } from './arn.js';
import { KmsDeps, KmsScope } from './context.js';
import { Lifecycle } from './lifecycle.js';

const KEY_ID = /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** What forms of KeyId an operation accepts (AWS: "key ID, key ARN, alias name or alias ARN"). */
export interface Accepts {
  readonly aliases: boolean;
}

const notFound = (msg: string) => new AwsError(KmsErrors.NotFoundException, msg);

/**
 * A key ARN of another account names no key. Another account's keys answer only through their key policy:
 * KMS tells a caller AccessDeniedException whether or not the key exists (services/kms/service.ts turns this
 * into that answer, with the operation's action), so key ids cannot be probed across accounts.
 */
export class ForeignKeyNotFound extends AwsError {
  constructor(readonly keyArn: string) {
    super(KmsErrors.NotFoundException, `Key '${keyArn}' does not exist`);
  }
}

/**
 * Finds the key a KeyId names, in the caller's region: a key id (caller's account), a key ARN (any
 * account: authorization decides), an alias name (caller's account) or an alias ARN.
 * The key returned has had its due lifecycle transitions applied.
 */
export class KeyResolver {
  constructor(
    private readonly deps: KmsDeps,
    private readonly lifecycle: Lifecycle,
  ) {}

  async resolve(scope: KmsScope, ref: string, accepts: Accepts): Promise<KeyRecord> {
    if (ref.startsWith('arn:')) {
      const arn = parseKmsArn(ref);
      if (!arn) throw notFound(`Invalid arn ${ref}`);
      if (arn.region !== scope.region) throw notFound(`Invalid arn ${ref}: the key is not in ${scope.region}`);
      // A same-account-only operation never looks another account's key up: an existing key and a missing one
      // answer alike, at once, whatever the key's policy allows (services/kms/foreign-keys.ts).
      if (arn.accountId !== scope.accountId && scope.ownAccountOnly) throw new ForeignKeyNotFound(ref);
      if (arn.resourceType === 'alias') {
        if (!accepts.aliases) throw notFound(`Invalid keyId ${ref}`);
        return this.#viaAlias({ accountId: arn.accountId, region: arn.region }, arn.resource, ref);
      }
      const key = this.#byId(arn.resource, arn.accountId, scope.region, ref);
      if (arn.accountId === scope.accountId) return key;
      return key.catch((err: unknown) => {
        throw err instanceof AwsError && err.code === KmsErrors.NotFoundException.code ? new ForeignKeyNotFound(ref) : err;
      });
    }
    if (ref.startsWith('alias/')) {
      if (!accepts.aliases) throw notFound(`Invalid keyId ${ref}`);
      return this.#viaAlias(scope, ref, ref);
    }
    if (!KEY_ID.test(ref)) throw notFound(`Invalid keyId ${ref}`);
    return this.#byId(ref, scope.accountId, scope.region, keyArn(scope.region, scope.accountId, ref));
  }

  /** A key by its row id (types.ts#keyRowId; a grant's key), wherever it is; undefined when gone. */
  async byIdAnywhere(rowId: string): Promise<KeyRecord | undefined> {
    const key = await this.deps.store.getKey(rowId);
    return key ? this.lifecycle.settle(key) : undefined;
  }

  /** The key `keyId` of `accountId` in `region` (a multi-Region key has one in each Region); undefined when none. */
  async inRegion(keyId: string, accountId: string, region: string): Promise<KeyRecord | undefined> {
    const found = await this.deps.store.getKey(keyRowId({ keyId, region }));
    return found && found.accountId === accountId && found.region === region ? this.lifecycle.settle(found) : undefined;
  }

  async #viaAlias(scope: KmsScope, aliasName: string, shown: string): Promise<KeyRecord> {
    const alias = await this.deps.store.getAlias(scope.accountId, scope.region, aliasName);
    if (!alias) throw notFound(`Alias ${shown.startsWith('arn:') ? shown : `arn:aws:kms:${scope.region}:${scope.accountId}:${aliasName}`} is not found.`);
    return this.#byId(alias.targetKeyId, scope.accountId, scope.region, shown);
  }

  async #byId(keyId: string, accountId: string, region: string, shown: string): Promise<KeyRecord> {
    const key = await this.inRegion(keyId, accountId, region);
    if (!key) throw notFound(`Key '${shown.startsWith('arn:') ? shown : keyArn(region, accountId, keyId)}' does not exist`);
    return key;
  }
}
