// `strongroom serve` runs as many processes as the machine has cores unless told otherwise (issue 10:
// `--workers N`, STRONGROOM_WORKERS; default os.availableParallelism()), says so on its listening line, replaces
// a worker that dies, stops every worker on SIGTERM, and leaves no worker running when the primary is killed.
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NODE_ROOT_ENV, NodeClients, until } from '../../helpers/nodes.js';
import { ServeProcess, killAll, spawnServe } from '../../helpers/process.js';

/** The pids of `pid`'s child processes. */
function children(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((p) => p > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

/** SIGTERM, and the exit code; null when serve did not exit by itself within 15 s (it is then SIGKILLed). */
async function terminated(s: ServeProcess): Promise<number | null> {
  const exited = s.terminate();
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs whichever of `pids` still runs (workers left behind by a primary that did not stop them). */
function reap(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
}

describe('serve --workers', () => {
  const dirs: string[] = [];
  after(() => {
    killAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const dataDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sr-workers-'));
    dirs.push(d);
    return join(d, 'data');
  };

  it('without --workers or STRONGROOM_WORKERS, serve runs os.availableParallelism() workers and its listening line says how many', async () => {
    const cores = availableParallelism();
    // STRONGROOM_WORKERS empty: unset (spawnServe would otherwise ask for one process).
    const s = await spawnServe(['--data-dir', dataDir()], { ...NODE_ROOT_ENV, STRONGROOM_WORKERS: '' });
    if (cores > 1) assert.match(s.stdout(), new RegExp(`listening on \\S+ \\(.*, ${cores} workers\\)`));
    else assert.doesNotMatch(s.stdout(), /workers\)/);
    assert.equal(children(s.child.pid!).length, cores > 1 ? cores : 0);
    assert.equal(await terminated(s), 0);
  });

  it('--workers 2 overrides STRONGROOM_WORKERS; a worker killed is replaced and the port keeps serving; SIGTERM stops every worker, exit 0', async () => {
    const s = await spawnServe(['--data-dir', dataDir(), '--workers', '2'], { ...NODE_ROOT_ENV, STRONGROOM_WORKERS: '3' });
    assert.match(s.stdout(), /, 2 workers\)/);
    const [first, second] = children(s.child.pid!);
    assert.ok(first && second, 'two workers');
    const clients = new NodeClients(s.url);
    try {
      await clients.kms().send(new CreateKeyCommand({}));
      process.kill(first, 'SIGKILL');
      // The primary says so on stderr (read by this process a little later than the new process is seen).
      await until('a replacement worker', async () => {
        const now = children(s.child.pid!);
        return now.length === 2 && !now.includes(first) && s.stderr().includes(`worker ${first} exited (SIGKILL); starting another`);
      });
      // Every request on a new connection: both workers, the replacement included, answer.
      for (let i = 0; i < 6; i++) assert.equal((await clients.kms().send(new ListKeysCommand({}))).Keys!.length, 1);
    } finally {
      clients.destroy();
    }
    const workers = children(s.child.pid!);
    try {
      assert.equal(await terminated(s), 0, `serve exits by itself after SIGTERM; stderr: ${s.stderr()}`);
      for (const pid of workers) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `worker ${pid} stopped`);
    } finally {
      reap(workers);
    }
  });

  it('SIGTERM while a replacement worker is still starting stops it too: every worker exits and so does serve, exit 0', async () => {
    const s = await spawnServe(['--data-dir', dataDir(), '--workers', '2'], NODE_ROOT_ENV);
    const workers = children(s.child.pid!);
    process.kill(workers[0]!, 'SIGKILL');
    // The replacement is forked at once and takes a second or so to start: SIGTERM as soon as it exists.
    let replacement: number | undefined;
    await until('the replacement process', async () => {
      replacement = children(s.child.pid!).find((p) => !workers.includes(p));
      return replacement !== undefined;
    });
    try {
      assert.equal(await terminated(s), 0, `serve exits by itself after SIGTERM; stderr: ${s.stderr()}`);
      assert.throws(() => process.kill(replacement!, 0), { code: 'ESRCH' }, `the replacement worker ${replacement} stopped`);
    } finally {
      reap([...workers, replacement!]);
    }
  });

  it('serve\'s primary killed with SIGKILL: its workers stop by themselves within seconds (none is left running)', async () => {
    const s = await spawnServe(['--data-dir', dataDir(), '--workers', '2'], NODE_ROOT_ENV);
    const workers = children(s.child.pid!);
    assert.equal(workers.length, 2);
    s.child.kill('SIGKILL');
    const alive = () => workers.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    try {
      await until('the workers to stop', async () => alive().length === 0, 10_000);
    } finally {
      reap(workers);
    }
  });
});
