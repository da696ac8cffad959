import { Worker } from 'node:cluster';
import { VolumeExportsService } from '../../../core/volumes/volume-exports.js';

/**
 * Snapshots under node:cluster (main.ts). A snapshot holds every write the volume's NBD client was acknowledged,
 * as EBS's does, so CreateSnapshot first flushes the volume's device (VolumeExportsService.flushIfOpen). Devices
 * are open only in the worker process that runs the NBD server (the owner, host.ts's nbdHere), but the request
 * may reach any worker: the others ask the owner through the primary (IPC) and wait for its answer.
 */
interface FlushAsk {
  readonly type: 'nbd-flush';
  readonly id: number;
  readonly volumeId: string;
}
interface FlushDone {
  readonly type: 'nbd-flushed';
  readonly id: number;
  /** Whether the device was open at the owner (else the snapshot's worker asks another node, if any has it). */
  readonly flushed: boolean;
}

/**
 * How long a worker waits for the owner's flush before the snapshot goes on without it (what a flush that
 * failed does too: flushIfOpen ignores failures). A flush waits for at most 512 MiB written behind.
 */
const FLUSH_WAIT_MS = 60_000;

/** In a worker: the owner flushes what it is asked to; the others ask for their snapshots. */
export function workerNbdFlush(exports: VolumeExportsService, owner: boolean): void {
  if (owner) {
    process.on('message', (m: FlushAsk) => {
      if (m?.type !== 'nbd-flush') return;
      void exports.flushIfOpen(m.volumeId).then(
        (flushed) => process.send?.({ type: 'nbd-flushed', id: m.id, flushed } satisfies FlushDone),
        () => process.send?.({ type: 'nbd-flushed', id: m.id, flushed: false } satisfies FlushDone),
      );
    });
    return;
  }
  let nextId = 1;
  const pending = new Map<number, (flushed: boolean) => void>();
  process.on('message', (m: FlushDone) => {
    if (m?.type !== 'nbd-flushed') return;
    pending.get(m.id)?.(m.flushed === true);
  });
  exports.flushElsewhere = (volumeId) =>
    new Promise<boolean>((resolve) => {
      const id = nextId++;
      const done = (flushed: boolean) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(flushed);
      };
      const timer = setTimeout(() => done(false), FLUSH_WAIT_MS);
      pending.set(id, done);
      process.send!({ type: 'nbd-flush', id, volumeId } satisfies FlushAsk);
    });
}

/** In the primary: passes a worker's flush request to the NBD owner and the owner's answer back. */
export class PrimaryNbdFlush {
  #nextId = 1;
  readonly #waiting = new Map<number, { readonly from: Worker; readonly id: number }>();

  constructor(private readonly owner: () => Worker | undefined) {}

  /** Handles a worker's message if it is one of these; true when it was. */
  onMessage(w: Worker, m: FlushAsk | FlushDone): boolean {
    if (m?.type === 'nbd-flushed') {
      const asked = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (asked && asked.from.isConnected()) asked.from.send({ type: 'nbd-flushed', id: asked.id, flushed: m.flushed } satisfies FlushDone);
      return true;
    }
    if (m?.type !== 'nbd-flush') return false;
    const owner = this.owner();
    // No owner running (it died and its replacement is starting): no device is open, nothing to flush.
    if (!owner || owner === w || !owner.isConnected()) {
      w.send({ type: 'nbd-flushed', id: m.id, flushed: false } satisfies FlushDone);
      return true;
    }
    const id = this.#nextId++;
    this.#waiting.set(id, { from: w, id: m.id });
    owner.send({ type: 'nbd-flush', id, volumeId: m.volumeId } satisfies FlushAsk);
    return true;
  }

  /** The owner died: whoever waits for it is answered (its devices are gone with it). */
  ownerGone(owner: Worker): void {
    for (const [id, asked] of this.#waiting) {
      this.#waiting.delete(id);
      if (asked.from !== owner && asked.from.isConnected()) asked.from.send({ type: 'nbd-flushed', id: asked.id, flushed: false } satisfies FlushDone);
    }
  }
}
