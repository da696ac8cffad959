import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { HostFacts, HostIdentity, pidAlive } from '../../src/core/leases/host-identity.js';
import { Lease } from '../../src/core/leases/leases.js';

const TTL = 15_000;
const NOW = 1_800_000_000_000;
const FACTS: HostFacts = { machineId: '3d1219c7c4c5404aaa1f6d2a48adfda4', hostname: 'node-1', bootId: 'b-1', pidNamespace: 'pid:[4026531836]', bootedAt: NOW - 3_600_000, pid: 10 };
/** A process of `facts`, the pids in `dead` not running. */
const at = (facts: Partial<HostFacts>, dead: number[] = []) => new HostIdentity({ ...FACTS, ...facts }, (pid) => !dead.includes(pid));
/** `holder`'s claim, last renewed `renewedAgo` ms before NOW. */
const claim = (holder: HostIdentity, renewedAgo = 1_000): Lease => ({ name: 'ebs-volume:vol-1', holder: `${holder.holder}:uuid`, token: 7, expiresAt: NOW - renewedAgo + TTL });

/** The pid of a process that ran and was reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

describe('HostIdentity: which lease holders are provably dead', () => {
  it('a holder of this host, boot and pid namespace whose pid no longer runs is dead; while it runs it is not', () => {
    assert.equal(at({}, [11]).holderDead(claim(at({ pid: 11 })), TTL), true);
    assert.equal(at({}, []).holderDead(claim(at({ pid: 11 })), TTL), false);
    // Not this process itself, whatever the liveness check says.
    assert.equal(at({}, [10]).holderDead(claim(at({ pid: 10 })), TTL), false);
  });

  it('another node, another container on this kernel (pid namespace) or a holder id without a location is never dead', () => {
    const me = at({}, [11]);
    assert.equal(me.holderDead(claim(at({ pid: 11, machineId: 'other', hostname: 'node-2', bootId: 'b-2' }), 60_000), TTL), false);
    assert.equal(me.holderDead(claim(at({ pid: 11, hostname: 'node-2' })), TTL), false);
    assert.equal(me.holderDead(claim(at({ pid: 11, pidNamespace: 'pid:[4026532000]' })), TTL), false);
    for (const holder of ['11', '11:uuid', 'a', `11@x${'0'.repeat(16)}.${'0'.repeat(16)}.${'0'.repeat(16)}:u`, `0${claim(at({ pid: 11 })).holder}`]) {
      assert.equal(me.holderDead({ ...claim(at({ pid: 11 })), holder }, TTL), false, holder);
    }
  });

  it('a holder of this host from before its reboot (another boot id) is dead if its claim was last renewed before the boot, with a machine id only', () => {
    const me = at({});
    const before = at({ bootId: 'b-0', pid: 10 });
    assert.equal(me.holderDead(claim(before, 3_600_001), TTL), true);
    // Renewed since this host booted: a live process elsewhere (a clone with this machine id), not ours.
    assert.equal(me.holderDead(claim(before, 3_599_000), TTL), false);
    // Without /etc/machine-id the hostname alone does not tell a reboot from another node of that name.
    const bare = at({ machineId: undefined });
    assert.equal(bare.holderDead(claim(at({ machineId: undefined, bootId: 'b-0' }), 3_600_001), TTL), false);
    assert.equal(bare.holderDead(claim(at({ machineId: undefined, pid: 11 })), TTL), false);
    assert.equal(at({ machineId: undefined }, [11]).holderDead(claim(at({ machineId: undefined, pid: 11 })), TTL), true);
  });

  it('holder ids carry no machine id, boot id or hostname, only keyed hashes of them', () => {
    const h = at({ pid: 4321 }).holder;
    assert.match(h, /^4321@m[0-9a-f]{16}\.[0-9a-f]{16}\.[0-9a-f]{16}$/);
    for (const secret of [FACTS.machineId!, FACTS.bootId, FACTS.hostname, '4026531836']) assert.ok(!h.includes(secret), secret);
  });

  it('this process\'s identity (Linux): its holder names this pid; a reaped child\'s claim is dead, a running one\'s and this process\'s are not', async () => {
    const local = HostIdentity.local();
    assert.ok(local, 'Linux /proc gives a boot id and pid namespace');
    assert.ok(local.holder.startsWith(`${process.pid}@`));
    const machineId = existsSync('/etc/machine-id') ? readFileSync('/etc/machine-id', 'utf8').trim() : '';
    assert.ok((!machineId || !local.holder.includes(machineId)) && !local.holder.includes(hostname()));
    const pid = await deadPid();
    assert.equal(pidAlive(pid), false);
    const ofPid = (p: number): Lease => ({ name: 'v', holder: local.holder.replace(/^\d+/, String(p)) + ':u', token: 1, expiresAt: Date.now() + TTL });
    assert.equal(local.holderDead(ofPid(pid), TTL), true);
    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      assert.equal(local.holderDead(ofPid(running.pid!), TTL), false);
      assert.equal(local.holderDead(ofPid(1), TTL), false, 'pid 1 runs (EPERM counts as alive)');
      assert.equal(local.holderDead(ofPid(process.pid), TTL), false);
    } finally {
      running.kill('SIGKILL');
    }
  });
});
