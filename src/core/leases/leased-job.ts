import { Clock } from '../clock.js';
import { acquireOrTakeOver } from './claim.js';
import { HostIdentity, localHolder, localIdentity } from './host-identity.js';
import { Lease, Leases } from './leases.js';

/** How long a lease lasts without renewal: a dead holder's work moves to another node after this. */
export const DEFAULT_LEASE_TTL_MS = 10_000;

/** What a tick is told: whether the lease is still held (checked between the items of a long tick). */
export interface LeaseGuard {
  readonly token: number;
  /** False once this holder can no longer be sure it holds the lease (its expiry passed without renewal). */
  held(): boolean;
}

export interface LeasedJobOptions {
  readonly leases: Leases;
  readonly name: string;
  readonly clock: Clock;
  /** Who holds the lease (default: unique to this job instance, so two servers in one process never share it). */
  readonly holder?: string;
  /** Where this process runs, to take over at once a lease whose holder provably died (default: localIdentity()). */
  readonly identity?: HostIdentity;
  readonly ttlMs?: number;
  /** An unexpected failure (the database refused a renewal): the job retries at the next renewal. */
  readonly failed?: (err: unknown) => void;
  /** Run when this holder gains the lease (not when it renews it), e.g. to start the work a dead holder left. */
  readonly acquired?: (guard: LeaseGuard) => Promise<void>;
}

/**
 * Runs a job's work only while this process holds the job's lease (src/core/leases/leases.ts): `run` acquires
 * or renews it first and skips the work when another process holds it; between runs the lease is renewed every
 * TTL/3, so the holder keeps it while alive and another process takes it over within about TTL + TTL/3 once the
 * holder dies — at its next renewal when the holder is provably dead (a process of this host that no longer runs:
 * src/core/leases/claim.ts). `stop` gives it up at once. Fencing: `run` refuses to start work when the renewal just made was
 * refused, and the guard it passes turns false once the lease's expiry passed without a renewal this holder saw
 * (the work stops between items instead of acting on a lease someone else may hold).
 */
export class LeasedJob {
  readonly holder: string;
  readonly ttlMs: number;
  #lease: Lease | undefined;
  /** Until when this holder is sure it holds the lease: the time before its last successful renewal, plus the TTL. */
  #sureUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(private readonly options: LeasedJobOptions) {
    this.holder = options.holder ?? localHolder();
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  }

  /** Starts renewing (or trying to take) the lease every TTL/3; `acquired` runs when a renewal gains it. */
  start(): void {
    this.#stopped = false;
    const renew = async () => {
      const { gained } = await this.#renew();
      if (gained && this.options.acquired) await this.options.acquired(this.#guard(this.#lease!)).catch((err: unknown) => this.options.failed?.(err));
    };
    void renew();
    this.#timer = setInterval(() => void renew(), Math.max(1, Math.floor(this.ttlMs / 3)));
    this.#timer.unref();
  }

  /** Whether this holder is sure it holds the lease now. */
  held(): boolean {
    return this.#lease !== undefined && this.options.clock.now() < this.#sureUntil;
  }

  /** Acquires or renews the lease; true when this holder holds it. */
  async renew(): Promise<boolean> {
    return (await this.#renew()).held;
  }

  async #renew(): Promise<{ held: boolean; gained: boolean }> {
    if (this.#stopped) return { held: false, gained: false };
    const before = this.options.clock.now();
    let lease: Lease | undefined;
    try {
      lease = await acquireOrTakeOver(this.options.leases, this.options.name, this.holder, this.ttlMs, this.options.identity ?? localIdentity());
    } catch (err) {
      this.options.failed?.(err);
      return { held: this.held(), gained: false };
    }
    const gained = lease !== undefined && lease.token !== this.#lease?.token;
    this.#lease = lease;
    this.#sureUntil = lease ? before + this.ttlMs : 0;
    return { held: lease !== undefined, gained };
  }

  /** Runs `work` when this holder holds the lease (renewing it first); undefined, without running it, when not. */
  async run<T>(work: (guard: LeaseGuard) => Promise<T>): Promise<T | undefined> {
    if (!(await this.renew()) || !this.held()) return undefined;
    return work(this.#guard(this.#lease!));
  }

  #guard(lease: Lease): LeaseGuard {
    return { token: lease.token, held: () => this.#lease?.token === lease.token && this.held() };
  }

  /** Stops renewing and gives the lease up, so another process takes the work over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const lease = this.#lease;
    this.#lease = undefined;
    this.#sureUntil = 0;
    if (lease) await this.options.leases.release(this.options.name, this.holder, lease.token).catch((err: unknown) => this.options.failed?.(err));
  }
}
