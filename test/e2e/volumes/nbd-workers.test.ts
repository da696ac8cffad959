import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { LIBNBD_DEBUG, mustRun, nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { SERVE_ENV, dataDirWithAttachedVolume, eventually, killServesAndRemove, nbdUrlOf } from '../../helpers/nbd-serve.js';
import { spawnServe } from '../../helpers/process.js';

const skip = nbdToolsMissing() ?? false;

/** The processes whose parent is `ppid` (the cluster primary's workers). */
function childrenOf(ppid: number): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so fields are counted after its ')'.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(ppid)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Whether the primary made this worker the one running the NBD server (STRONGROOM_NBD_OWNER=1 in its environment). */
function isNbdOwner(pid: number): boolean {
  return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('STRONGROOM_NBD_OWNER=1');
}

/** Which of `pids` hold a socket listening on 127.0.0.1:`port` (/proc/net/tcp's LISTEN rows, matched by inode). */
function listenersOf(port: number, pids: number[]): number[] {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === local && f[3] === '0A').map((f) => `socket:[${f[9]}]`);
  return pids.filter((pid) => readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try {
      return inodes.includes(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      return false;
    }
  }));
}

describe('strongroom serve --nbd-listen as a process: several workers', { skip }, () => {
  let dataDir: string;
  let volumeId: string;
  before(async () => {
    ({ dataDir, volumeId } = await dataDirWithAttachedVolume());
  });
  after(() => killServesAndRemove(dataDir));

  it('with two workers, every connection is served (by the one NBD owner) and a second client of an open volume is refused', async () => {
    const proc = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0', '--workers', '2'], SERVE_ENV);
    const base = nbdUrlOf(proc);
    const url = `${base}/${volumeId}`;
    // One worker process runs the NBD server; the HTTP port is shared by both.
    for (let i = 0; i < 4; i++) await eventually(() => mustRun('nbdinfo', [url]), 25_000);
    const holder = await RawNbdClient.connect(Number(new URL(base).port));
    await holder.open(volumeId);
    for (let i = 0; i < 3; i++) {
      const r = await runTool('nbdinfo', [url], 60_000, LIBNBD_DEBUG);
      assert.notEqual(r.code, 0, 'a second client is refused whichever worker it reaches');
      assert.match(r.stderr, /is open by another client/, r.stderr);
    }
    holder.request(2, 1n, 0, 0);
    await holder.closed();
    await eventually(() => mustRun('nbdinfo', [url]), 5_000);
    assert.equal(await proc.terminate(), 0);
  });

  it('one worker process runs NBD; killed with -9, its replacement serves on the banner\'s port (given as 0) what was flushed, and its log lines reach the output', async () => {
    const proc = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0', '--workers', '2'], { ...SERVE_ENV, STRONGROOM_LOG_LEVEL: 'info' });
    const primary = proc.child.pid!;
    const base = nbdUrlOf(proc);
    assert.match(base, /^nbd:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(base).port);
    const url = `${base}/${volumeId}`;
    const workers = childrenOf(primary);
    assert.equal(workers.length, 2, `the primary's children: ${workers.join(', ')}`);
    const owners = workers.filter(isNbdOwner);
    assert.equal(owners.length, 1, 'one worker is the NBD owner');
    const owner = owners[0]!;
    assert.deepEqual(listenersOf(port, [primary, ...workers]), [owner], 'only the owner listens on the NBD port');
    await mustRun('qemu-io', ['-f', 'raw', '-c', 'write -P 0x6b 777 300000', '-c', 'flush', url]);

    process.kill(owner, 'SIGKILL');
    const replacement = await eventually(async () => {
      const now = childrenOf(primary).filter((pid) => pid !== owner && isNbdOwner(pid));
      if (now.length !== 1) throw new Error(`owners: ${now.join(', ')}`);
      return now[0]!;
    }, 20_000);
    // The replacement serves at the banner's URL what was flushed before the kill.
    const out = await eventually(() => mustRun('qemu-io', ['-f', 'raw', '-r', '-c', 'read -P 0x6b 777 300000', '-c', 'read -P 0 0 777', url]), 25_000);
    assert.doesNotMatch(out, /Pattern verification failed/, out);
    const all = childrenOf(primary);
    assert.equal(all.length, 2);
    assert.deepEqual(all.filter(isNbdOwner), [replacement]);
    assert.deepEqual(listenersOf(port, [primary, ...all]), [replacement], 'only the replacement listens on the NBD port');

    // The other worker killed: its replacement does not run NBD, and the owner still serves alone.
    const other = all.find((pid) => pid !== replacement)!;
    process.kill(other, 'SIGKILL');
    await eventually(async () => {
      const now = childrenOf(primary);
      if (now.length !== 2 || now.includes(other)) throw new Error(`workers: ${now.join(', ')}`);
    }, 20_000);
    assert.deepEqual(childrenOf(primary).filter(isNbdOwner), [replacement]);
    assert.deepEqual(listenersOf(port, [primary, ...childrenOf(primary)]), [replacement]);

    // The NBD thread's log records go to the output with their fields, from the owner's process.
    const client = await RawNbdClient.connect(port);
    await client.open(volumeId);
    client.stream.write(Buffer.alloc(28, 0xee));
    assert.ok(await client.closed());
    const line = await eventually(async () => {
      const found = proc.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((r) => r.msg === 'nbd: closing a connection that broke the protocol');
      if (!found) throw new Error(`not logged: ${proc.stdout()}`);
      return found;
    }, 5_000);
    assert.equal(line.export, volumeId);
    assert.equal(line.reason, 'bad request magic');
    assert.equal(line.level, 30);
    assert.equal(line.pid, replacement);
    assert.equal(await proc.terminate(), 0);
  });

  it("the primary's own environment does not choose the NBD owner: STRONGROOM_NBD_OWNER/STRONGROOM_NBD_PORT set for serve still give one owner, on the banner's port", async () => {
    const proc = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0', '--workers', '2'], { ...SERVE_ENV, STRONGROOM_NBD_OWNER: '1', STRONGROOM_NBD_PORT: '9' });
    const primary = proc.child.pid!;
    const base = nbdUrlOf(proc);
    const workers = childrenOf(primary);
    assert.equal(workers.length, 2);
    const owners = workers.filter(isNbdOwner);
    assert.equal(owners.length, 1);
    assert.deepEqual(listenersOf(Number(new URL(base).port), [primary, ...workers]), owners);
    await mustRun('nbdinfo', [`${base}/${volumeId}`]);
    assert.equal(await proc.terminate(), 0);
  });
});
