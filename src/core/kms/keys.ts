import { randomBytes, randomUUID } from 'node:crypto';
import { DAY_MS } from '../clock.js';
import { AwsError, needs } from '../errors/aws-error.js';
import { CommonErrors } from '../errors/common.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyManager, KeyRecord, KeyUsage, MULTI_REGION_KEY_PREFIX, Tag, keyRowId } from '../../store/metadata/types.js';
import { KeySpecRules, rulesOf } from './key-specs/index.js';
import { keyArn } from './arn.js';
import { KmsDeps, KmsScope } from './context.js';
import { DEFAULT_POLICY_NAME, defaultKeyPolicy } from './default-policy.js';
import { needsEnabled, needsNotPendingDeletion, needsNotPendingImport } from './key-state.js';
import { allMaterials } from './imports/imports.js';
import { importedKeyPatch } from './imports/material-state.js';
import { Lifecycle } from './lifecycle.js';
import { checkKeyPolicy } from './policy-document.js';
import { MAX_TAGS_PER_KEY, checkTags } from './tags.js';

/** AWS: a pending window of 7–30 days, 30 by default; rotation every 90–2560 days, 365 by default. */
export const DEFAULT_PENDING_WINDOW_DAYS = 30;
export const DEFAULT_ROTATION_PERIOD_DAYS = 365;
/** AWS allows 25 on-demand rotations per key. */
export const MAX_ON_DEMAND_ROTATIONS = 25;

export interface CreateKeyInput {
  /** A fresh random UUID unless given (CreateKey draws it first for the policy lockout check). */
  readonly keyId?: string;
  readonly description?: string;
  readonly policy?: string;
  readonly tags?: readonly Tag[];
  readonly keyManager?: KeyManager;
  /** SYMMETRIC_DEFAULT for ENCRYPT_DECRYPT unless given (CreateKey checks the pair with chooseKeySpec). */
  readonly keySpec?: KeySpecRules;
  readonly keyUsage?: KeyUsage;
  /** EXTERNAL: a key without material, PendingImport until ImportKeyMaterial (src/core/kms/imports/). */
  readonly origin?: 'AWS_KMS' | 'EXTERNAL' | 'EXTERNAL_KEY_STORE';
  /** A multi-Region primary key (its key id `mrk-` and 32 hex digits unless given). */
  readonly multiRegion?: boolean;
}

/** A fresh key id: a UUID, or for a multi-Region key `mrk-` and 32 hex digits (AWS's two forms). */
export function newKeyId(multiRegion: boolean): string {
  return multiRegion ? `${MULTI_REGION_KEY_PREFIX}${randomBytes(16).toString('hex')}` : randomUUID();
}

/** PRIMARY or REPLICA for a multi-Region key, undefined for a single-Region key. */
export function multiRegionKeyType(key: KeyRecord): 'PRIMARY' | 'REPLICA' | undefined {
  if (!key.multiRegion) return undefined;
  return key.primaryRegion === key.region ? 'PRIMARY' : 'REPLICA';
}

/**
 * Rotation (automatic and on demand) is for symmetric encryption keys only; AWS answers
 * UnsupportedOperationException for the others (https://docs.aws.amazon.com/kms/latest/developerguide/rotating-keys.html).
 */
export function needsRotatable(key: KeyRecord): void {
  needsSupportedRotation(key);
  // AWS: "To enable or disable automatic rotation of a set of related multi-Region keys, set the property on
  // the primary key"; on-demand rotation likewise starts at the primary.
  needs(
    multiRegionKeyType(key) !== 'REPLICA',
    KmsErrors.UnsupportedOperationException,
    `${key.arn} is a multi-Region replica key; rotate the multi-Region key through its primary key in ${key.primaryRegion}.`,
  );
}

/** The key spec allows rotation (GetKeyRotationStatus answers for replicas too: the rotation status is shared). */
export function needsSupportedRotation(key: KeyRecord): void {
  // Keys in a custom key store are not rotated by KMS (their external key is the custom key store's business).
  needs(
    key.origin !== 'EXTERNAL_KEY_STORE',
    KmsErrors.UnsupportedOperationException,
    `${key.arn} is in a custom key store; key rotation is not supported for KMS keys in custom key stores.`,
  );
  needs(
    rulesOf(key).rotates,
    KmsErrors.UnsupportedOperationException,
    `${key.arn} has key spec ${key.keySpec}; key rotation is supported only for symmetric encryption KMS keys.`,
  );
}

/**
 * Automatic rotation is not for keys with imported material (they rotate on demand, after new material is
 * imported): https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
 */
export function needsAutomaticallyRotatable(key: KeyRecord): void {
  needsRotatable(key);
  needs(
    key.origin === 'AWS_KMS',
    KmsErrors.UnsupportedOperationException,
    `${key.arn} origin is ${key.origin}; automatic key rotation is not supported for KMS keys with imported key material.`,
  );
}

/** Key management: create, enable/disable, describe changes, deletion windows, rotation settings, policy. */
export class Keys {
  constructor(
    private readonly deps: KmsDeps,
    private readonly lifecycle: Lifecycle,
  ) {}

  async create(scope: KmsScope, input: CreateKeyInput): Promise<KeyRecord> {
    const tags = input.tags ?? [];
    checkTags(tags);
    needs(tags.length <= MAX_TAGS_PER_KEY, KmsErrors.TagException, `A KMS key can have at most ${MAX_TAGS_PER_KEY} tags.`);
    if (input.policy !== undefined) checkKeyPolicy(input.policy);
    const multiRegion = input.multiRegion === true;
    const keyId = input.keyId ?? newKeyId(multiRegion);
    needs(keyId.startsWith(MULTI_REGION_KEY_PREFIX) === multiRegion, KmsErrors.KMSInternalException, 'The key id does not match the key kind.');
    const arn = keyArn(scope.region, scope.accountId, keyId);
    const now = this.deps.clock.now();
    const spec = input.keySpec ?? rulesOf({ keySpec: 'SYMMETRIC_DEFAULT' });
    const external = input.origin === 'EXTERNAL';
    const owner = { keyId, region: scope.region, accountId: scope.accountId, arn, multiRegion };
    const material = external ? null : await this.deps.materials.create(owner, now, null, () => spec.generate());
    const key: KeyRecord = {
      keyId,
      accountId: scope.accountId,
      region: scope.region,
      arn,
      description: input.description ?? '',
      keyState: external ? 'PendingImport' : 'Enabled',
      keyManager: input.keyManager ?? 'CUSTOMER',
      createdAt: now,
      deletionDate: null,
      pendingWindowInDays: null,
      policy: input.policy ?? defaultKeyPolicy(scope.accountId),
      currentMaterialId: material?.materialId ?? '',
      rotationEnabled: false,
      rotationPeriodInDays: null,
      nextRotationDate: null,
      onDemandRotationStartDate: null,
      keySpec: spec.spec,
      keyUsage: input.keyUsage ?? 'ENCRYPT_DECRYPT',
      origin: external ? 'EXTERNAL' : input.origin === 'EXTERNAL_KEY_STORE' ? 'EXTERNAL_KEY_STORE' : 'AWS_KMS',
      multiRegion,
      primaryRegion: multiRegion ? scope.region : null,
      ...(external ? { expirationModel: null, validTo: null, materialExpiresAt: null } : {}),
    };
    await this.deps.store.createKey(key, material, tags);
    return key;
  }

  async enable(key: KeyRecord): Promise<void> {
    needsNotPendingDeletion(key);
    needsNotPendingImport(key);
    await this.#update(key, { keyState: 'Enabled' });
  }

  async disable(key: KeyRecord): Promise<void> {
    needsNotPendingDeletion(key);
    needsNotPendingImport(key);
    await this.#update(key, { keyState: 'Disabled' });
  }

  async updateDescription(key: KeyRecord, description: string): Promise<void> {
    needsNotPendingDeletion(key);
    await this.#update(key, { description });
  }

  async scheduleDeletion(key: KeyRecord, pendingWindowInDays = DEFAULT_PENDING_WINDOW_DAYS): Promise<KeyRecord> {
    needsNotPendingDeletion(key);
    needs(
      pendingWindowInDays >= 7 && pendingWindowInDays <= 30,
      CommonErrors.ValidationException,
      `1 validation error detected: Value '${pendingWindowInDays}' at 'pendingWindowInDays' failed to satisfy constraint: ` +
        `Member must have value ${pendingWindowInDays < 7 ? 'greater than or equal to 7' : 'less than or equal to 30'}`,
    );
    const deletionDate = this.deps.clock.now() + pendingWindowInDays * DAY_MS;
    if (multiRegionKeyType(key) === 'PRIMARY' && (await this.deps.store.listRelatedKeys(key.keyId)).length > 1) {
      // A primary with replicas waits for them: its window starts when the last replica is deleted
      // (https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-delete.html).
      const waiting = await this.#update(key, { keyState: 'PendingReplicaDeletion', pendingWindowInDays });
      // The last replica may have gone while this was written: then the window starts now.
      if ((await this.deps.store.listRelatedKeys(key.keyId)).length > 1) return waiting;
      return this.#update(key, { keyState: 'PendingDeletion', deletionDate, pendingWindowInDays });
    }
    return this.#update(key, { keyState: 'PendingDeletion', deletionDate, pendingWindowInDays });
  }

  async cancelDeletion(key: KeyRecord): Promise<void> {
    needs(
      key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion',
      KmsErrors.KMSInvalidStateException,
      `${key.arn} is not pending deletion.`,
    );
    // AWS: a key whose deletion is cancelled comes back Disabled — or PendingImport when it lacks imported material.
    const missing =
      key.origin === 'EXTERNAL' && importedKeyPatch({ ...key, keyState: 'Disabled' }, await allMaterials(this.deps, keyRowId(key))).keyState === 'PendingImport';
    await this.#update(key, { keyState: missing ? 'PendingImport' : 'Disabled', deletionDate: null, pendingWindowInDays: null });
  }

  async enableRotation(key: KeyRecord, periodInDays = DEFAULT_ROTATION_PERIOD_DAYS): Promise<void> {
    needsEnabled(key);
    needsAutomaticallyRotatable(key);
    // Changing the period of an enabled rotation reschedules from the last rotation date, as AWS does.
    const from = key.rotationEnabled && key.nextRotationDate !== null && key.rotationPeriodInDays !== null
      ? key.nextRotationDate - key.rotationPeriodInDays * DAY_MS
      : this.deps.clock.now();
    await this.#updateShared(key, { rotationEnabled: true, rotationPeriodInDays: periodInDays, nextRotationDate: from + periodInDays * DAY_MS });
  }

  async disableRotation(key: KeyRecord): Promise<void> {
    needsEnabled(key);
    needsAutomaticallyRotatable(key);
    await this.#updateShared(key, { rotationEnabled: false, nextRotationDate: null });
  }

  async rotateOnDemand(key: KeyRecord): Promise<void> {
    needsEnabled(key);
    needsRotatable(key);
    const done = await this.deps.store.countMaterials(keyRowId(key), 'ON_DEMAND');
    needs(
      done < MAX_ON_DEMAND_ROTATIONS,
      KmsErrors.LimitExceededException,
      `${key.arn} has reached the limit of ${MAX_ON_DEMAND_ROTATIONS} on-demand rotations.`,
    );
    await this.lifecycle.rotate(key, 'ON_DEMAND');
  }

  getPolicy(key: KeyRecord, policyName = DEFAULT_POLICY_NAME): string {
    needs(policyName === DEFAULT_POLICY_NAME, KmsErrors.NotFoundException, `No such policy exists: ${policyName}`);
    return key.policy;
  }

  async putPolicy(key: KeyRecord, policy: string, policyName = DEFAULT_POLICY_NAME): Promise<void> {
    needsNotPendingDeletion(key);
    needs(policyName === DEFAULT_POLICY_NAME, KmsErrors.NotFoundException, `No such policy exists: ${policyName}`);
    checkKeyPolicy(policy);
    await this.#update(key, { policy });
  }

  /** A shared property (rotation): of a multi-Region key, every related key gets it at once. */
  async #updateShared(key: KeyRecord, patch: Parameters<KmsDeps['store']['updateKey']>[1]): Promise<void> {
    if (key.multiRegion) await this.deps.store.updateRelatedKeys(key.keyId, patch);
    else await this.#update(key, patch);
  }

  async #update(key: KeyRecord, patch: Parameters<KmsDeps['store']['updateKey']>[1]): Promise<KeyRecord> {
    const updated = await this.deps.store.updateKey(keyRowId(key), patch);
    if (!updated) throw new AwsError(KmsErrors.NotFoundException, `Key '${key.arn}' does not exist`);
    return updated;
  }
}
