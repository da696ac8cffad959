import { HostIdentity } from './host-identity.js';
import { Lease, Leases } from './leases.js';

/**
 * Acquires (or renews) a lease as Leases.tryAcquire does and, when another holder has it, takes it over at once
 * if that holder is provably dead (HostIdentity.holderDead: a process of this host that no longer runs, or ran
 * before this host rebooted). The take-over is a compare-and-set on the dead holder and its token, so of two
 * processes doing this at once one wins; the loser is refused as by tryAcquire.
 */
export async function acquireOrTakeOver(
  leases: Leases,
  name: string,
  holder: string,
  ttlMs: number,
  identity: HostIdentity | undefined,
): Promise<Lease | undefined> {
  const lease = await leases.tryAcquire(name, holder, ttlMs);
  if (lease || !identity) return lease;
  const current = await leases.current(name);
  if (!current || current.holder === holder || !identity.holderDead(current, ttlMs)) return undefined;
  return leases.takeOver(name, current.holder, current.token, holder, ttlMs);
}
