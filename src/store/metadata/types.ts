/**
 * The metadata store: everything but object bodies. SQLite (embedded, default) implements it today,
 * PostgreSQL later; test/contract/metadata-store.contract.ts runs against every implementation.
 * Methods are async so that a networked store fits the same interface. Times are epoch milliseconds.
 */

/**
 * PendingImport: a key of Origin EXTERNAL missing (some of) its imported key material (src/core/kms/imports/).
 * PendingReplicaDeletion: a multi-Region primary key scheduled for deletion while it still has replicas; its
 * waiting period starts when the last replica is deleted (https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-delete.html).
 */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport' | 'PendingReplicaDeletion';
export type KeyManager = 'CUSTOMER' | 'AWS';
export type RotationType = 'AUTOMATIC' | 'ON_DEMAND';
/** The KeySpec, KeyUsageType and OriginType enums of the KMS model (model.json + model-newer.json; src/core/kms/key-specs/ holds their rules). */
export type KeySpec = string;
export type KeyUsage = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC' | 'KEY_AGREEMENT' | 'ENCAPSULATE_DECAPSULATE';
export type KeyOrigin = 'AWS_KMS' | 'EXTERNAL' | 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE';
/** The ExpirationModelType enum of the botocore KMS model. */
export type ExpirationModel = 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE';

export interface AccountRecord {
  readonly accountId: string;
  readonly createdAt: number;
}

export interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly accountId: string;
  /** e.g. arn:aws:iam::111122223333:root */
  readonly principalArn: string;
  readonly principalType: 'Root' | 'IAMUser';
  readonly principalId: string;
  /** The secret access key, wrapped by the root of trust (SigV4 needs the secret itself). */
  readonly secretWrapped: Buffer;
  readonly status: 'Active' | 'Inactive';
  readonly createdAt: number;
}

export interface KeyRecord {
  readonly keyId: string;
  readonly accountId: string;
  readonly region: string;
  readonly arn: string;
  readonly description: string;
  readonly keyState: KeyState;
  readonly keyManager: KeyManager;
  readonly createdAt: number;
  readonly deletionDate: number | null;
  readonly pendingWindowInDays: number | null;
  readonly policy: string;
  readonly currentMaterialId: string;
  readonly rotationEnabled: boolean;
  readonly rotationPeriodInDays: number | null;
  readonly nextRotationDate: number | null;
  readonly onDemandRotationStartDate: number | null;
  /** What the key is and does, fixed at CreateKey (keys made before these columns: SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, AWS_KMS). */
  readonly keySpec: KeySpec;
  readonly keyUsage: KeyUsage;
  readonly origin: KeyOrigin;
  /** A multi-Region key (key id `mrk-…`): one key of this id in each Region it was replicated to. */
  readonly multiRegion: boolean;
  /**
   * The Region of the multi-Region key's primary, the same on every related key (UpdatePrimaryRegion changes
   * it on all of them at once); null for a single-Region key.
   */
  readonly primaryRegion: string | null;
  /**
   * Keys with imported material (Origin EXTERNAL) only, absent otherwise: the current material's
   * ExpirationModel and ValidTo (DescribeKey), and the earliest ValidTo of any material still imported
   * (when the lifecycle must next delete one, src/core/kms/lifecycle.ts).
   */
  readonly expirationModel?: ExpirationModel | null;
  readonly validTo?: number | null;
  readonly materialExpiresAt?: number | null;
}

/**
 * The id of a key's row in the store. A multi-Region key has the same key id in every Region it is
 * replicated to, so its rows are `<key id>@<region>`; any other key's row id is its key id. Every store
 * method that takes a key's id takes this (aliases excepted: they name their target by key id, in their
 * own Region); KeyRecord.keyId is always the key id AWS shows.
 */
export function keyRowId(key: { readonly keyId: string; readonly region: string }): string {
  return key.keyId.startsWith(MULTI_REGION_KEY_PREFIX) ? `${key.keyId}@${key.region}` : key.keyId;
}

/** The key id of a row id (keyRowId's inverse). */
export function keyIdOfRow(rowId: string): string {
  const at = rowId.indexOf('@');
  return at < 0 ? rowId : rowId.slice(0, at);
}

/**
 * `replica` with what the related keys of a multi-Region key share taken from the related key `source`
 * (createReplica, in its transaction): the current material, the rotation settings and the primary Region.
 */
export function withRelatedSettings(replica: KeyRecord, source: KeyRecord): KeyRecord {
  return {
    ...replica,
    currentMaterialId: source.currentMaterialId,
    rotationEnabled: source.rotationEnabled,
    rotationPeriodInDays: source.rotationPeriodInDays,
    nextRotationDate: source.nextRotationDate,
    onDemandRotationStartDate: source.onDemandRotationStartDate,
    primaryRegion: source.primaryRegion,
  };
}

/** AWS: "multi-Region keys have a distinctive key ID that begins with mrk-". */
export const MULTI_REGION_KEY_PREFIX = 'mrk-';

export type KeyPatch = Partial<
  Omit<KeyRecord, 'keyId' | 'accountId' | 'region' | 'arn' | 'createdAt' | 'keyManager' | 'keySpec' | 'keyUsage' | 'origin' | 'multiRegion'>
>;

export interface MaterialRecord {
  /** The key's row id (keyRowId): each key of a multi-Region key holds its own copy of the shared materials. */
  readonly keyId: string;
  readonly materialId: string;
  readonly wrapped: Buffer;
  readonly createdAt: number;
  /** null for the material CreateKey made; set for each rotation. */
  readonly rotationType: RotationType | null;
  /** Only for material imported into an EXTERNAL key (absent for material KMS made). */
  readonly imported?: ImportedMaterial;
}

/**
 * What an imported material is: IMPORTED, or PENDING_IMPORT once deleted or expired (its `wrapped` is then
 * empty: imported material is never kept after deletion). `pendingRotation`: imported with ImportType
 * NEW_KEY_MATERIAL and not yet made current by RotateKeyOnDemand (KeyMaterialState PENDING_ROTATION).
 */
export interface ImportedMaterial {
  readonly importState: 'IMPORTED' | 'PENDING_IMPORT';
  readonly pendingRotation: boolean;
  readonly expirationModel: ExpirationModel;
  readonly validTo: number | null;
  /** KeyMaterialDescription ('' when none was given). */
  readonly description: string;
}

/**
 * The wrapping key pair and import token of a key's latest GetParametersForImport (one per key: a newer one
 * replaces the older). The RSA private key is stored wrapped by the root of trust, so any node can unwrap
 * the material an ImportKeyMaterial sends.
 */
export interface ImportParametersRecord {
  readonly keyId: string;
  /** Random; the import token names it, so a token of replaced parameters no longer matches. */
  readonly tokenId: string;
  readonly wrappingAlgorithm: string;
  readonly wrappingKeySpec: string;
  readonly privateKeyWrapped: Buffer;
  readonly createdAt: number;
  readonly validTo: number;
}
export interface AliasRecord {
  readonly accountId: string;
  readonly region: string;
  /** Includes the `alias/` prefix. */
  readonly aliasName: string;
  /** The target's key id; the target is the key of that id in the alias's Region. */
  readonly targetKeyId: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * The last successful cryptographic use of a KMS key (GetKeyLastUsage): the operation (a
 * KeyLastUsageTrackingOperation of the model), when (the call's CloudTrail eventTime), its CloudTrail eventID
 * in the key owner's account and its request id.
 */
export interface KeyLastUsageRecord {
  readonly keyId: string;
  readonly operation: string;
  readonly usedAt: number;
  readonly cloudTrailEventId: string;
  readonly requestId: string;
}

/**
 * One record per key, the latest of each (the later one on a tie), in key id order: what a store writes in one
 * statement (PostgreSQL's upsert cannot touch a row twice) in the same order on every node (no lock cycles).
 */
export function latestPerKey(usages: readonly KeyLastUsageRecord[]): KeyLastUsageRecord[] {
  const latest = new Map<string, KeyLastUsageRecord>();
  for (const u of usages) {
    const seen = latest.get(u.keyId);
    if (!seen || u.usedAt >= seen.usedAt) latest.set(u.keyId, u);
  }
  return [...latest.values()].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
}

export interface Tag {
  readonly TagKey: string;
  readonly TagValue: string;
}

export interface Page<T> {
  readonly items: T[];
  /** The sort key of the last item when more items follow. */
  readonly next?: string;
}

/**
 * A page of `limit` items from rows fetched with `limit + 1` (the extra row says there is more); `next` is
 * the sort key of the last item shown, where the next page starts after.
 */
export function pageOf<T>(rows: T[], limit: number, sortKey: (t: T) => string): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: sortKey(items[items.length - 1]!) };
}

export interface MetadataStore {
  getSetting(name: string): Promise<string | undefined>;
  /** Sets the value only if none is set; returns the value that is set afterwards. */
  initSetting(name: string, value: string): Promise<string>;

  createAccount(account: AccountRecord): Promise<void>;
  getAccount(accountId: string): Promise<AccountRecord | undefined>;

  /** Inserts or replaces an access key (used for configured root credentials). */
  putAccessKey(key: AccessKeyRecord): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  listAccessKeys(accountId: string): Promise<AccessKeyRecord[]>;

  /** Creates key, first material (none for a key awaiting imported material) and tags in one transaction. */
  createKey(key: KeyRecord, material: MaterialRecord | null, tags: readonly Tag[]): Promise<void>;
  getKey(keyId: string): Promise<KeyRecord | undefined>;
  listKeys(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<KeyRecord>>;
  /** Applies `patch` and returns the updated key, or undefined when the key does not exist. */
  updateKey(keyId: string, patch: KeyPatch): Promise<KeyRecord | undefined>;
  /** Removes the key with its materials, aliases and tags. */
  deleteKey(keyId: string): Promise<void>;
  /**
   * Keys whose deletion date, next rotation date or earliest imported-material ValidTo is at or before `now`
   * (of a multi-Region key, only its primary rotates: the rotation reaches every related key).
   */
  listKeysDue(now: number): Promise<KeyRecord[]>;

  /** Every key of the multi-Region key `keyId` (its primary and its replicas, one per Region), ordered by Region. */
  listRelatedKeys(keyId: string): Promise<KeyRecord[]>;
  /**
   * Adds `replica` (its own policy, description, state; key id of an existing multi-Region key) with its tags,
   * copying in the same transaction, from the related key `fromRowId`, what related keys share: every
   * material, the current material, the rotation settings and the primary Region. undefined (nothing added)
   * when the multi-Region key already has a key in the replica's Region or `fromRowId` is gone.
   */
  createReplica(replica: KeyRecord, fromRowId: string, tags: readonly Tag[]): Promise<KeyRecord | undefined>;
  /** Applies `patch` (shared properties) to every key of the multi-Region key `keyId` in one transaction. */
  updateRelatedKeys(keyId: string, patch: KeyPatch): Promise<KeyRecord[]>;
  /**
   * Adds `material` (its keyId: the multi-Region key id) to every key of that multi-Region key and applies
   * `patch` to each, in one transaction (rotation: the replicas get the primary's new material).
   */
  addRelatedMaterial(material: MaterialRecord, patch: KeyPatch): Promise<KeyRecord[]>;
  /**
   * Deletes a key of a multi-Region key, like deleteKey. When that leaves a primary in PendingReplicaDeletion
   * with no replica, the primary becomes PendingDeletion with deletion date `now` + its pending window, in
   * the same transaction; that primary is returned.
   */
  deleteRelatedKey(rowId: string, now: number): Promise<KeyRecord | undefined>;

  /** Adds a material and applies `patch` to the key in one transaction. */
  addMaterial(material: MaterialRecord, patch: KeyPatch): Promise<KeyRecord>;
  getMaterial(keyId: string, materialId: string): Promise<MaterialRecord | undefined>;
  listMaterials(keyId: string, after: string | undefined, limit: number): Promise<Page<MaterialRecord>>;
  countMaterials(keyId: string, rotationType: RotationType): Promise<number>;
  /**
   * Imported material: inserts the material (numbered after the key's others) or replaces the one of the
   * same id, removes the materials named in `remove`, and applies `patch` to the key, in one transaction.
   */
  putMaterials(keyId: string, put: readonly MaterialRecord[], remove: readonly string[], patch: KeyPatch): Promise<KeyRecord>;

  /** Replaces the key's import parameters (GetParametersForImport). */
  putImportParameters(p: ImportParametersRecord): Promise<void>;
  getImportParameters(keyId: string): Promise<ImportParametersRecord | undefined>;

  /** Throws AliasExistsError when the name is taken in that account and region. */
  createAlias(alias: AliasRecord): Promise<void>;
  getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined>;
  updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, updatedAt: number): Promise<boolean>;
  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean>;
  listAliases(accountId: string, region: string, keyId: string | undefined, after: string | undefined, limit: number): Promise<Page<AliasRecord>>;

  putTags(keyId: string, tags: readonly Tag[]): Promise<void>;
  removeTags(keyId: string, tagKeys: readonly string[]): Promise<void>;
  listTags(keyId: string, after: string | undefined, limit: number): Promise<Page<Tag>>;
  countTags(keyId: string): Promise<number>;

  /**
   * Records each key's last use unless the stored one is later ("max(time)": writers on several nodes and
   * workers flushing in any order never move it backwards); a key that no longer exists is skipped.
   */
  recordKeyLastUsage(usages: readonly KeyLastUsageRecord[]): Promise<void>;
  getKeyLastUsage(keyId: string): Promise<KeyLastUsageRecord | undefined>;

  close(): Promise<void>;
}

export class AliasExistsError extends Error {
  constructor() {
    super('alias exists');
    this.name = 'AliasExistsError';
  }
}
