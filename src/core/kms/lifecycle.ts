import { DAY_MS } from '../clock.js';
import { KeyRecord, RotationType, keyRowId } from '../../store/metadata/types.js';
import { KmsDeps } from './context.js';
import { Leases } from '../leases/leases.js';
import { acquireOrTakeOver } from '../leases/claim.js';
import { HostIdentity } from '../leases/host-identity.js';
import { Imports } from './imports/imports.js';

/**
 * Told of the transitions KMS makes without a caller, before it makes them (CloudTrail records them as
 * AwsServiceEvent: RotateKey, DeleteKey). The transition waits for the returned promise and does not happen
 * when it rejects. app.ts wires the audit log here (src/core/audit/service-events.ts#auditedKeyLifecycle).
 */
export interface KeyLifecycleEvents {
  rotating(key: KeyRecord, rotationType: RotationType): Promise<void>;
  deleting(key: KeyRecord): Promise<void>;
  /** Imported material of the key reached its ValidTo and is being deleted (CloudTrail: DeleteExpiredKeyMaterial). */
  expiring?(key: KeyRecord, materialId: string): Promise<void>;
}

/**
 * Where a process claims a key's transition before making it (a lease per key, src/core/leases): of the
 * processes and nodes that find one key due at once — a sweep on one, reads on others — one makes the
 * transition and records it; the others do not (without this, each recorded its own DeleteKey or RotateKey).
 */
export interface TransitionClaims {
  readonly leases: Leases;
  readonly holder: string;
  /** Where this process runs: a claim whose holder provably died is taken over at once (src/core/leases/claim.ts). */
  readonly identity?: HostIdentity;
  /** Longer than a transition takes (its audit commit included); a claim left by a dead process frees after it. */
  readonly ttlMs: number;
}

export const UNOBSERVED_LIFECYCLE: KeyLifecycleEvents = { rotating: async () => {}, deleting: async () => {} };

/**
 * Time-driven key transitions: a key pending deletion is deleted once its deletion date passes, an
 * enabled key with automatic rotation gets a new key material once its next rotation date passes, and
 * imported key material is deleted once its ValidTo passes (the key then waits for it: PendingImport).
 * They happen lazily whenever a key is read (so no caller ever sees a key past its date) and in a
 * periodic sweep (so deletion really happens even for keys nobody reads).
 * A key's transitions run one at a time (single flight) so two requests cannot rotate it twice.
 */
export class Lifecycle {
  readonly #inFlight = new Map<string, Promise<KeyRecord | undefined>>();
  readonly #imports: Imports;

  constructor(
    private readonly deps: KmsDeps,
    private readonly events: KeyLifecycleEvents = UNOBSERVED_LIFECYCLE,
    private readonly claims?: TransitionClaims,
  ) {
    this.#imports = new Imports(deps);
  }

  /** The key as it is now, after any due transition; undefined when it has been deleted. */
  settle(key: KeyRecord): Promise<KeyRecord | undefined> | KeyRecord {
    if (!this.#isDue(key, this.deps.clock.now())) return key;
    const rowId = keyRowId(key);
    let p = this.#inFlight.get(rowId);
    if (!p) {
      p = this.#transition(rowId).finally(() => this.#inFlight.delete(rowId));
      this.#inFlight.set(rowId, p);
    }
    return p;
  }

  /**
   * Settles every key that is due. `held`: the sweep runs under a lease (src/core/leases) and stops between
   * keys once this process can no longer be sure it holds it, so two nodes do not sweep at once.
   */
  async sweep(held: () => boolean = () => true): Promise<number> {
    const due = await this.deps.store.listKeysDue(this.deps.clock.now());
    let settled = 0;
    for (const key of due) {
      if (!held()) break;
      await this.settle(key);
      settled += 1;
    }
    return settled;
  }

  async rotate(key: KeyRecord, rotationType: RotationType): Promise<KeyRecord> {
    if (key.origin === 'EXTERNAL') {
      // Imported material: the material imported for this rotation becomes current (checked before the event).
      await this.#imports.pendingRotation(key);
      await this.events.rotating(key, rotationType);
      return this.#imports.rotate(key, this.deps.clock.now());
    }
    await this.events.rotating(key, rotationType);
    const now = this.deps.clock.now();
    const material = await this.deps.materials.create(key, now, rotationType);
    const nextRotationDate =
      rotationType === 'AUTOMATIC' && key.rotationPeriodInDays !== null ? now + key.rotationPeriodInDays * DAY_MS : key.nextRotationDate;
    const patch = { currentMaterialId: material.materialId, nextRotationDate };
    if (!key.multiRegion) return this.deps.store.addMaterial(material, patch);
    // A multi-Region key rotates at its primary and every related key gets the new material with it, in
    // one transaction (https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html#mrk-sync-properties).
    const related = await this.deps.store.addRelatedMaterial({ ...material, keyId: key.keyId }, patch);
    return related.find((k) => k.region === key.region) ?? { ...key, ...patch };
  }

  #isDue(key: KeyRecord, now: number): boolean {
    if (key.keyState === 'PendingDeletion' && key.deletionDate !== null && key.deletionDate <= now) return true;
    if (this.#materialExpired(key, now)) return true;
    // A multi-Region key rotates at its primary only (the rotation reaches every replica, store.addRelatedMaterial);
    // a replica's rotation settings are the primary's, copied, so they would say it is due too.
    if (key.multiRegion && key.primaryRegion !== key.region) return false;
    return key.keyState === 'Enabled' && key.rotationEnabled && key.nextRotationDate !== null && key.nextRotationDate <= now;
  }

  #materialExpired(key: KeyRecord, now: number): boolean {
    return key.materialExpiresAt !== undefined && key.materialExpiresAt !== null && key.materialExpiresAt <= now;
  }

  async #transition(keyId: string): Promise<KeyRecord | undefined> {
    if (!this.claims) return this.#transitionClaimed(keyId);
    const name = `kms-key-transition:${keyId}`;
    const claim = await acquireOrTakeOver(this.claims.leases, name, this.claims.holder, this.claims.ttlMs, this.claims.identity);
    if (!claim) {
      // Another process is making this transition now, once. A key past its deletion date is gone for every
      // caller already; a key due for rotation is served with its current material until the new one is in.
      // Imported material past its ValidTo is already unusable for every caller: the key reads as PendingImport.
      const key = await this.deps.store.getKey(keyId);
      const now = this.deps.clock.now();
      if (!key) return undefined;
      if (key.keyState === 'PendingDeletion') return key.deletionDate !== null && key.deletionDate <= now ? undefined : key;
      return this.#materialExpired(key, now) ? { ...key, keyState: 'PendingImport' } : key;
    }
    try {
      return await this.#transitionClaimed(keyId);
    } finally {
      await this.claims.leases.release(name, this.claims.holder, claim.token);
    }
  }

  async #transitionClaimed(keyId: string): Promise<KeyRecord | undefined> {
    // Re-read under the claim: another node or request may have moved it (and released its claim) since.
    const key = await this.deps.store.getKey(keyId);
    if (!key) return undefined;
    const now = this.deps.clock.now();
    if (!this.#isDue(key, now)) return key;
    if (key.keyState === 'PendingDeletion' && key.deletionDate !== null && key.deletionDate <= now) {
      await this.events.deleting(key);
      if (key.multiRegion) {
        // Deleting the last replica starts the window of a primary waiting in PendingReplicaDeletion.
        await this.deps.store.deleteRelatedKey(keyRowId(key), now);
      } else {
        await this.deps.store.deleteKey(key.keyId);
        this.deps.materials.forget(key.keyId);
      }
      return undefined;
    }
    if (this.#materialExpired(key, now)) {
      return this.#imports.expire(key, async (ids) => {
        for (const id of ids) await this.events.expiring?.(key, id);
      });
    }
    return this.rotate(key, 'AUTOMATIC');
  }
}
