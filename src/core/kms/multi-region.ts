import { AwsError, needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { RegionSet } from '../identity/authenticator.js';
import { KeyRecord, Tag, keyRowId } from '../../store/metadata/types.js';
import { keyArn } from './arn.js';
import { KmsDeps } from './context.js';
import { defaultKeyPolicy } from './default-policy.js';
import { needsEnabled, needsNotPendingDeletion } from './key-state.js';
import { multiRegionKeyType } from './keys.js';
import { checkKeyPolicy } from './policy-document.js';
import { MAX_TAGS_PER_KEY, checkTags } from './tags.js';

/**
 * Multi-Region keys (https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html):
 * a primary key and its replicas, one per Region of this deployment, with the same key id and key
 * material. What they share (materials, rotation, primary Region) the store writes to every related key in
 * one transaction; each has its own policy, description, tags, aliases, grants and state. Nothing of it is
 * held in a process: every node sharing the database sees the same keys.
 */
export interface ReplicateInput {
  readonly policy?: string;
  readonly description?: string;
  readonly tags?: readonly Tag[];
}

/** MultiRegionConfiguration of DescribeKey (botocore shape): the primary and every replica, by ARN and Region. */
export interface MultiRegionConfiguration {
  readonly MultiRegionKeyType: 'PRIMARY' | 'REPLICA';
  readonly PrimaryKey: { readonly Arn: string; readonly Region: string };
  readonly ReplicaKeys: { readonly Arn: string; readonly Region: string }[];
}

export class MultiRegionKeys {
  constructor(
    private readonly deps: KmsDeps,
    /** The Regions this deployment serves (STRONGROOM_REGIONS): a replica goes to one of them. */
    private readonly regions: RegionSet,
  ) {}

  /**
   * The primary and replica keys of `key` as DescribeKey shows them; undefined for a single-Region key. The
   * key itself is always listed (the store's view of it may be a moment newer than `key`).
   */
  async configuration(key: KeyRecord): Promise<MultiRegionConfiguration | undefined> {
    const type = multiRegionKeyType(key);
    if (type === undefined) return undefined;
    const related = (await this.deps.store.listRelatedKeys(key.keyId)).filter((k) => k.accountId === key.accountId);
    const primaryRegion = key.primaryRegion!;
    const arnIn = (region: string) => keyArn(region, key.accountId, key.keyId);
    const replicas = new Set(related.map((k) => k.region).filter((r) => r !== primaryRegion));
    if (type === 'REPLICA') replicas.add(key.region);
    return {
      MultiRegionKeyType: type,
      PrimaryKey: { Arn: arnIn(primaryRegion), Region: primaryRegion },
      ReplicaKeys: [...replicas].sort().map((r) => ({ Arn: arnIn(r), Region: r })),
    };
  }

  /** ReplicateKey's Region must be one this deployment serves (checked before authorization: it names no key). */
  needsServedRegion(replicaRegion: string): void {
    needs(
      this.regions === '*' || this.regions.has(replicaRegion),
      KmsErrors.UnsupportedOperationException,
      `The replica Region ${replicaRegion} is not a Region this deployment serves (STRONGROOM_REGIONS: ${this.#served()}).`,
    );
  }

  /** ReplicateKey's checks of the primary and the Region. */
  needsReplicable(primary: KeyRecord, replicaRegion: string): void {
    this.needsServedRegion(replicaRegion);
    needs(
      primary.multiRegion,
      KmsErrors.UnsupportedOperationException,
      `${primary.arn} is not a multi-Region key. You can replicate only multi-Region primary keys.`,
    );
    needs(
      multiRegionKeyType(primary) === 'PRIMARY',
      KmsErrors.UnsupportedOperationException,
      `${primary.arn} is a multi-Region replica key. You can replicate only the primary key, in ${primary.primaryRegion}.`,
    );
    needs(
      replicaRegion !== primary.region,
      KmsErrors.UnsupportedOperationException,
      `The replica Region ${replicaRegion} is the Region of the primary key ${primary.arn}. A replica must be in another Region.`,
    );
  }

  /**
   * ReplicateKey: the replica gets the key id, materials, current material, rotation and primary Region of
   * the primary (in the store's transaction), its own policy (the default one unless given), description
   * and tags. AlreadyExistsException when the Region has a key of this multi-Region key already.
   */
  async replicate(primary: KeyRecord, replicaRegion: string, input: ReplicateInput): Promise<KeyRecord> {
    this.needsReplicable(primary, replicaRegion);
    needsEnabled(primary);
    const tags = input.tags ?? [];
    checkTags(tags);
    needs(tags.length <= MAX_TAGS_PER_KEY, KmsErrors.TagException, `A KMS key can have at most ${MAX_TAGS_PER_KEY} tags.`);
    if (input.policy !== undefined) checkKeyPolicy(input.policy);
    const arn = keyArn(replicaRegion, primary.accountId, primary.keyId);
    const replica: KeyRecord = {
      ...primary,
      region: replicaRegion,
      arn,
      description: input.description ?? '',
      keyState: 'Enabled',
      createdAt: this.deps.clock.now(),
      deletionDate: null,
      pendingWindowInDays: null,
      policy: input.policy ?? defaultKeyPolicy(primary.accountId),
    };
    const created = await this.deps.store.createReplica(replica, keyRowId(primary), tags);
    if (!created) throw new AwsError(KmsErrors.AlreadyExistsException, `Replica key ${arn} already exists.`);
    return created;
  }

  /**
   * UpdatePrimaryRegion: the replica in `region` becomes the primary and the primary a replica — one write of
   * the shared primary Region to every related key. Returns the new primary.
   */
  async updatePrimaryRegion(primary: KeyRecord, replica: KeyRecord | undefined, region: string): Promise<void> {
    needs(
      primary.multiRegion,
      KmsErrors.UnsupportedOperationException,
      `${primary.arn} is not a multi-Region key. UpdatePrimaryRegion applies only to multi-Region primary keys.`,
    );
    needs(
      multiRegionKeyType(primary) === 'PRIMARY',
      KmsErrors.UnsupportedOperationException,
      `${primary.arn} is a multi-Region replica key. Call UpdatePrimaryRegion on the primary key, in ${primary.primaryRegion}.`,
    );
    needs(
      region !== primary.region,
      KmsErrors.UnsupportedOperationException,
      `${primary.arn} is already the primary key in ${region}.`,
    );
    if (!replica) throw new AwsError(KmsErrors.NotFoundException, `Key '${keyArn(region, primary.accountId, primary.keyId)}' does not exist`);
    needsEnabled(primary);
    needsNotPendingDeletion(replica);
    await this.deps.store.updateRelatedKeys(primary.keyId, { primaryRegion: region });
  }

  #served(): string {
    return this.regions === '*' ? '*' : [...this.regions].join(',');
  }
}
