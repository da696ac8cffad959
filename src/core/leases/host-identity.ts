import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import { Lease } from './leases.js';

/** What this process knows about where it runs (read once; tests make their own). */
export interface HostFacts {
  /** /etc/machine-id; undefined when absent or empty (a reboot of this host is then not recognised). */
  readonly machineId: string | undefined;
  readonly hostname: string;
  /** /proc/sys/kernel/random/boot_id: the kernel makes a new one at every boot. */
  readonly bootId: string;
  /** /proc/self/ns/pid: pids mean the same process only within one pid namespace (one container). */
  readonly pidNamespace: string;
  /** When this host booted, ms since the epoch (the wall clock, as the leases' times). */
  readonly bootedAt: number;
  readonly pid: number;
}

/**
 * The fields are hashed, never shown: systemd asks that the machine id not be exposed, only a keyed hash of it
 * under an application's own key (machine-id(5)); the boot id and namespace follow for uniformity. 64 bits each.
 */
const tag = (...parts: string[]) => createHmac('sha256', 'strongroom lease holder v1').update(parts.join('\0')).digest('hex').slice(0, 16);

/** `<pid>@<m|h><host>.<boot>.<pid namespace>` and then whatever the caller adds (`:<uuid>`). */
const HOLDER = /^([1-9]\d{0,9})@([mh][0-9a-f]{16})\.([0-9a-f]{16})\.([0-9a-f]{16})(?::|$)/;

/** Whether a process of this pid namespace is alive: signal 0 tests without signalling (kill(2): ESRCH = none). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Where a lease holder runs, written into its holder id, so that a claim whose holder is provably dead can be
 * taken over at once instead of waiting out its TTL (Leases.takeOver). Provably dead means:
 * - it ran on this host in this boot and in this pid namespace, and no process has its pid now (ESRCH). A pid
 *   reused since by another process reads as alive: then the claim lapses as any other does.
 * - or it ran on this host before the host rebooted: same machine id and hostname, another boot id — only when
 *   /etc/machine-id exists (a hostname alone is not unique enough to tell a reboot from another node), and only
 *   when the claim was last renewed before this boot (a claim renewed since is a live process elsewhere, whatever
 *   its ids say: a machine cloned with its machine id).
 * Anything else — another node, another container on this kernel, a holder id without these fields — is not
 * known to be dead and waits for the TTL.
 */
export class HostIdentity {
  readonly #host: string;
  readonly #boot: string;
  readonly #ns: string;

  constructor(private readonly facts: HostFacts, private readonly alive: (pid: number) => boolean = pidAlive) {
    this.#host = facts.machineId ? `m${tag('machine', facts.machineId, facts.hostname)}` : `h${tag('host', facts.hostname)}`;
    this.#boot = tag('boot', facts.bootId);
    this.#ns = tag('pidns', facts.bootId, facts.pidNamespace);
  }

  /** This process's identity, or undefined where /proc does not tell a boot id and pid namespace (not Linux). */
  static local(): HostIdentity | undefined {
    try {
      const read = (path: string) => readFileSync(path, 'utf8').trim();
      let machineId: string | undefined;
      try {
        machineId = read('/etc/machine-id') || undefined;
      } catch {
        machineId = undefined;
      }
      const bootId = read('/proc/sys/kernel/random/boot_id');
      const pidNamespace = readlinkSync('/proc/self/ns/pid');
      if (!bootId || !pidNamespace) return undefined;
      return new HostIdentity({ machineId, hostname: hostname(), bootId, pidNamespace, bootedAt: Date.now() - uptime() * 1000, pid: process.pid });
    } catch {
      return undefined;
    }
  }

  /** The start of this process's holder ids (append `:<uuid>` to make each claim's own). */
  get holder(): string {
    return `${this.facts.pid}@${this.#host}.${this.#boot}.${this.#ns}`;
  }

  /** Whether `lease`'s holder is provably dead (see the class comment); `ttlMs` is how long a renewal lasts. */
  holderDead(lease: Lease, ttlMs: number): boolean {
    const m = HOLDER.exec(lease.holder);
    if (!m || m[2] !== this.#host) return false;
    if (m[3] !== this.#boot) return this.#host.startsWith('m') && lease.expiresAt - ttlMs <= this.facts.bootedAt;
    if (m[4] !== this.#ns) return false;
    const pid = Number(m[1]);
    return pid !== this.facts.pid && !this.alive(pid);
  }
}

let local: HostIdentity | undefined | null = null;

/** This process's identity (HostIdentity.local(), read once). */
export function localIdentity(): HostIdentity | undefined {
  if (local === null) local = HostIdentity.local();
  return local;
}

/**
 * A new holder id of this process: where it runs (HostIdentity.holder; the pid alone where that is unknown) and a
 * random part, so two holders in one process (two servers, two claims) never share an id. Every lease holder of
 * Strongroom is made here, so a claim any of them leaves by dying can be told dead (src/core/leases/claim.ts).
 */
export function localHolder(): string {
  return `${localIdentity()?.holder ?? process.pid}:${randomUUID()}`;
}
