import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lease, Leases } from '../leases/leases.js';
import { acquireOrTakeOver } from '../leases/claim.js';
import { HostIdentity, localIdentity } from '../leases/host-identity.js';
import { ChunkRef, VolumeRecord } from '../../store/metadata/volume-types.js';
import { BlockDevice, VolumeExports, VolumeIoError } from './block-device.js';
import { EncryptedBlockDevice, FlushAsked, Stop } from './encrypted-device.js';
import { GrantUse, ebsContext } from './volume-kms.js';
import { VOLUME_ID, Volumes } from './volumes.js';
import { SecretBytes } from '../crypto/secret-bytes.js';

export interface VolumeExportOptions {
  /** How long an open claim lasts unrenewed (a node that died frees its volumes after this). */
  readonly leaseTtlMs?: number;
  /** How often an open device re-checks its CMK, grant, attachment and claim (ms). */
  readonly checkEveryMs?: number;
  /** Who holds the claims (default: this process, where it runs: HostIdentity.holder). */
  readonly holder?: string;
  /** Where this process runs, to tell a claim left by a dead process of this host (default: HostIdentity.local()). */
  readonly identity?: HostIdentity;
  /** The clock the leases' expiries are in (the domain clock). */
  readonly now?: () => number;
}

const GiB = 2 ** 30;

/** An opened export before it has a device (VolumeExportsService.openSession). */
export interface ExportSession {
  readonly volumeId: string;
  readonly size: number;
  readonly dataKey: SecretBytes;
  /** The volume's chunk map as committed (index → reference). */
  readonly map: Map<number, ChunkRef>;
  readonly checkEveryMs: number;
  /**
   * Why the volume may no longer be used (CMK, grant, detached, claim lost), or undefined; a Stop to flush first
   * (DetachVolume without Force); a FlushAsked when another node taking a snapshot asked for a flush (the device
   * flushes and goes on, then calls `flushed`).
   */
  unusable(): Promise<string | Stop | FlushAsked | undefined>;
  /** Records that the device served flush request `asked` (VolumeFlushes.done), for the node waiting on it. */
  flushed(asked: number): Promise<void>;
  /** Releases the claim (once the device has closed). */
  closed(): Promise<void>;
}

/**
 * The volumes the NBD server may open: attached ones. One open client per volume across every node sharing
 * the database — a lease `ebs-volume:<id>` held while the device is open, renewed at a third of its TTL (or
 * taken over at once from a holder that provably died: a process of this host that no longer runs); a
 * device whose lease was lost stops (VolumeIoError 'shutdown') rather than write beside another node. An
 * encrypted volume's data key is decrypted under EBS's grant at open; the CMK's state and the grant are checked
 * again at least every `checkEveryMs` (through the invalidated key and grant caches, so a DisableKey on any node
 * is seen within that time) and the device stops when they are no longer usable.
 */
export class VolumeExportsService implements VolumeExports {
  readonly #ttl: number;
  readonly #check: number;
  readonly #holder: string;
  readonly #identity: HostIdentity | undefined;
  readonly #now: () => number;
  /** The devices open in this process, by volume id. */
  readonly #open = new Map<string, EncryptedBlockDevice>();

  constructor(
    private readonly volumes: Volumes,
    private readonly leases: Leases,
    options: VolumeExportOptions = {},
  ) {
    this.#ttl = options.leaseTtlMs ?? 15_000;
    this.#check = options.checkEveryMs ?? 1_000;
    this.#identity = options.identity ?? localIdentity();
    this.#holder = options.holder ?? this.#identity?.holder ?? `${process.pid}`;
    this.#now = options.now ?? Date.now;
    // Where the device is open on this node (this thread, the NBD thread, the NBD owner worker) it is flushed
    // directly; only otherwise is another node asked through the volume's record.
    volumes.beforeSnapshot = async (volumeId) => {
      if (!(await this.flushIfOpen(volumeId))) await this.flushOnOtherNode(volumeId);
    };
    volumes.stopExport = (volumeId, force) => this.stopExport(volumeId, force);
  }

  /**
   * DetachVolume's stop (Volumes.detach). A device open in this process (or its NBD thread) is stopped
   * directly: with `force` after the operation it is running (unflushed writes dropped), without once it has
   * flushed; either way its claim is given up at once. A device open on another node sees the detach at its
   * next check (every checkEveryMs, idle or not): without `force` this waits until it has flushed and given up
   * its claim — a few checks at most; a node that does not answer (dead or cut off) is not waited for past that,
   * and its device stops without flushing when it next looks.
   */
  async stopExport(volumeId: string, force: boolean): Promise<void> {
    const reason = `${volumeId} was detached${force ? ' (forced: writes not flushed are lost)' : ''}`;
    await this.#open.get(volumeId)?.stop(reason, !force);
    await this.stopElsewhere?.(volumeId, reason, !force).catch(() => undefined);
    if (force) return;
    const name = `ebs-volume:${volumeId}`;
    const until = Date.now() + Math.max(5_000, 5 * this.#check);
    while (Date.now() < until) {
      const lease = await this.leases.current(name).catch(() => undefined);
      if (!lease || lease.expiresAt <= this.#now()) return;
      await sleep(Math.min(100, this.#check));
    }
  }

  /** Stops the volume's device where it is open outside this thread (the NBD thread sets it). */
  stopElsewhere: ((volumeId: string, reason: string, flushFirst: boolean) => Promise<void>) | undefined;

  /**
   * Flushes the volume's device if it is open on this node — in this thread or where flushElsewhere reaches: a
   * snapshot then holds every write its client had been acknowledged (as EBS's does), not only those flushed.
   * Whether it was open here (a flush that failed counts: that device has stopped). A device open on another node
   * is asked through the volume's record (flushOnOtherNode).
   */
  async flushIfOpen(volumeId: string): Promise<boolean> {
    const device = this.#open.get(volumeId);
    await device?.flush().catch(() => undefined);
    const elsewhere = await this.flushElsewhere?.(volumeId).catch(() => false);
    return device !== undefined || elsewhere === true;
  }

  /**
   * Flushes the volume's device where it is open outside this thread — the NBD thread's, or under node:cluster
   * the NBD owner worker's (src/protocols/nbd/thread) — resolving to whether it was open there.
   */
  flushElsewhere: ((volumeId: string) => Promise<boolean>) | undefined;

  /**
   * A snapshot of a volume open on another node (or another process: its claim `ebs-volume:<id>` is held by a
   * holder not of this process): asks that node's device for a flush through the volume's record
   * (VolumeFlushes.requested, incremented in one transaction) and waits until it has served it (`done`) — the
   * device sees the request at its next check (every checkEveryMs, idle or not), makes every write its client was
   * acknowledged durable, and records it. The wait ends early when the claim goes (the device closed, which
   * flushes, or its claim lapsed) or its holder is provably dead, and is bounded as a detach's (max(5 s, 5 ×
   * checkEveryMs)): a node that is dead or cut off is not waited for past that, and the snapshot then holds what
   * it had committed (what its client flushed, and what it wrote behind and committed on its own).
   */
  async flushOnOtherNode(volumeId: string): Promise<void> {
    const name = `ebs-volume:${volumeId}`;
    const live = async (): Promise<Lease | undefined> => {
      const lease = await this.leases.current(name).catch(() => undefined);
      if (!lease || lease.expiresAt <= this.#now() || this.#identity?.holderDead(lease, this.#ttl)) return undefined;
      return lease;
    };
    const holder = await live();
    if (!holder || holder.holder.startsWith(`${this.#holder}:`)) return;
    const asked = await this.volumes.store
      .reviseVolume(volumeId, (v) => ({ ...v, flushes: { requested: (v.flushes?.requested ?? 0) + 1, done: v.flushes?.done ?? 0 } }))
      .catch(() => undefined);
    const n = asked?.flushes?.requested;
    if (n === undefined) return;
    const until = Date.now() + Math.max(5_000, 5 * this.#check);
    while (Date.now() < until) {
      await sleep(Math.min(100, this.#check));
      const v = await this.volumes.store.getVolume(volumeId).catch(() => undefined);
      if (!v || (v.flushes?.done ?? 0) >= n) return;
      const now = await live();
      if (!now || now.holder !== holder.holder) return;
    }
  }

  async list(): Promise<string[]> {
    return (await this.volumes.store.attachedVolumes()).map((v) => v.volumeId);
  }

  async open(exportName: string): Promise<BlockDevice | undefined> {
    const session = await this.openSession(exportName);
    if (!session) return undefined;
    const closed = async () => {
      if (this.#open.get(session.volumeId) === device) this.#open.delete(session.volumeId);
      await session.closed();
    };
    const device: EncryptedBlockDevice = new EncryptedBlockDevice({ ...session, chunks: this.volumes.chunks, closed, stopped: closed });
    this.#open.set(session.volumeId, device);
    return device;
  }

  /**
   * What opening an export takes, without the device: the claim (held and renewed until `closed`), the data key,
   * the chunk map (segments a crash left unrecorded collected first) and the usability check. open() builds an
   * EncryptedBlockDevice on it here; the NBD thread (src/protocols/nbd/thread) builds one on its side.
   * Undefined when no such volume is attached; rejects with VolumeIoError 'shutdown' when another client has it.
   */
  async openSession(exportName: string): Promise<ExportSession | undefined> {
    if (!VOLUME_ID.test(exportName)) return undefined;
    const v = await this.volumes.store.getVolume(exportName);
    if (!v || !v.attachment) return undefined;
    const name = `ebs-volume:${v.volumeId}`;
    const holder = `${this.#holder}:${randomUUID()}`;
    // A claim its holder left by dying (kill -9, a crash, a reboot of this host) is taken over at once when that
    // holder is provably dead (src/core/leases/host-identity.ts); any other waits for its TTL.
    const lease = await acquireOrTakeOver(this.leases, name, holder, this.#ttl, this.#identity);
    if (!lease) throw new VolumeIoError(`${v.volumeId} is open by another client`, 'shutdown');
    // Flushes asked before this open are not this device's to serve: it holds nothing unflushed yet.
    let flushServed = v.flushes?.requested ?? 0;
    let timer: NodeJS.Timeout | undefined;
    let lost = false;
    let held = lease.token;
    const currentToken = () => held;
    const release = async () => {
      if (timer) clearInterval(timer);
      await this.leases.release(name, holder, currentToken()).catch(() => undefined);
    };
    try {
      const dataKey = await this.#dataKey(v);
      const { store, chunks } = this.volumes;
      // Segments a crash left written but never committed to the map.
      await chunks.collect(await store.orphanSegments(v.volumeId));
      const map = new Map((await store.chunks(v.volumeId)).map((r) => [r.index, r]));
      // Renewed at a third of the TTL. A renewal that comes after the expiry (an event loop held up) gets the
      // next token; that one still means nobody else held the volume in between (their claim would have taken
      // it, and ours the one after), so the device carries on. Anything else: another client may have written.
      let token = lease.token;
      timer = setInterval(() => {
        this.leases.tryAcquire(name, holder, this.#ttl).then(
          (l) => {
            if (l && (l.token === token || l.token === token + 1)) token = held = l.token;
            else lost = true;
          },
          () => undefined,
        );
      }, Math.max(50, Math.floor(this.#ttl / 3)));
      timer.unref();
      const use = this.#use(v);
      return {
        volumeId: v.volumeId,
        size: v.sizeGiB * GiB,
        dataKey,
        map,
        checkEveryMs: this.#check,
        unusable: async () => {
          if (lost) return `${v.volumeId} was opened elsewhere (its claim expired)`;
          const now = await store.getVolume(v.volumeId);
          // Another attachment than the one opened: detached (and attached again) meanwhile.
          if (!now?.attachment || now.attachment.attachTime !== v.attachment!.attachTime) return `${v.volumeId} was detached`;
          if (now.attachment.detaching) return { reason: `${v.volumeId} was detached`, flushFirst: true };
          const unusable = use ? await this.volumes.asService.unusable(use) : undefined;
          if (unusable !== undefined) return unusable;
          // A snapshot on another node asked for a flush (flushOnOtherNode).
          const requested = now.flushes?.requested ?? 0;
          if (requested <= flushServed) return undefined;
          flushServed = requested;
          return { flushAsked: requested };
        },
        flushed: async (asked) => {
          await store.reviseVolume(v.volumeId, (cur) => ({
            ...cur,
            flushes: { requested: Math.max(cur.flushes?.requested ?? 0, asked), done: Math.max(cur.flushes?.done ?? 0, asked) },
          }));
        },
        closed: release,
      };
    } catch (err) {
      await release();
      if (err instanceof VolumeIoError) throw err;
      throw new VolumeIoError(`${v.volumeId} cannot be opened: ${err instanceof Error ? err.message : 'unknown error'}`, 'shutdown');
    }
  }

  #use(v: VolumeRecord): GrantUse | undefined {
    if (v.dataKey.kind !== 'kms') return undefined;
    return { accountId: v.accountId, region: v.region, keyArn: v.dataKey.keyArn, grantId: v.grantId ?? '', resourceId: v.volumeId };
  }

  async #dataKey(v: VolumeRecord): Promise<SecretBytes> {
    if (v.dataKey.kind === 'service') return this.volumes.serviceKey.open(v.dataKey.sealed, v.volumeId);
    return this.volumes.asService.decrypt(this.#use(v)!, Buffer.from(v.dataKey.ciphertextBlob, 'base64'), ebsContext(v.volumeId));
  }
}
