/**
 * Leases: work that must happen once across every process and node sharing one database (key lifecycle
 * sweeps, trail delivery) runs only on the holder of its named lease (issue 10). A lease is held until
 * `expiresAt` unless renewed; a holder that dies stops renewing and another takes the lease once it expired.
 *
 * Fencing: every time a lease changes hands its `token` grows (never reused, also across releases), so a
 * holder that lost its lease — paused past its TTL, partitioned away — sees a different token or none and
 * must not act as if it still held it (LeasedJob checks before each tick and between items of one tick).
 * Times are the store's clock (the injected domain clock), the same for every contender.
 */
export interface Lease {
  readonly name: string;
  readonly holder: string;
  /** Grows each time the lease is acquired by a holder that did not hold it (or held an expired one). */
  readonly token: number;
  readonly expiresAt: number;
}

export interface Leases {
  /**
   * Atomically: acquires the lease when nobody holds it or its holder's expired, renews it (same token, new
   * expiry) when `holder` holds it and it has not expired. Undefined when another holder holds it.
   */
  tryAcquire(name: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Gives the lease up at once if `holder` still holds it with `token`; otherwise changes nothing. */
  release(name: string, holder: string, token: number): Promise<void>;
  /**
   * Atomically: hands the lease to `newHolder` (token + 1, expiring `ttlMs` from now) only if `deadHolder` still
   * holds it with `deadToken` — live or not — and returns it; undefined when anyone else took or renewed it since.
   * For a holder known to be dead (src/core/leases/claim.ts), whose claim need not be waited out: as a
   * compare-and-set on holder and token, two processes taking one dead holder's lease over cannot both win, and
   * the token grows so the dead holder's fencing holds (it could not renew, a late release changes nothing).
   */
  takeOver(name: string, deadHolder: string, deadToken: number, newHolder: string, ttlMs: number): Promise<Lease | undefined>;
  /** The lease as it stands (expired or not), undefined when it was never taken. */
  current(name: string): Promise<Lease | undefined>;
}
