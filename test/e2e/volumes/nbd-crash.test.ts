import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { LIBNBD_DEBUG, mustRun, nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { SERVE_ENV, dataDirWithAttachedVolume, killServesAndRemove, nbdUrlOf } from '../../helpers/nbd-serve.js';
import { spawnServe } from '../../helpers/process.js';

const skip = nbdToolsMissing() ?? false;

describe('strongroom serve --nbd-listen as a process: durability', { skip }, () => {
  let dataDir: string;
  let volumeId: string;
  before(async () => {
    ({ dataDir, volumeId } = await dataDirWithAttachedVolume());
  });
  after(() => killServesAndRemove(dataDir));

  it('writes acknowledged with FUA or followed by a flush survive kill -9 of the server', async () => {
    const first = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0'], SERVE_ENV);
    const url = `${nbdUrlOf(first)}/${volumeId}`;
    // Writeback: qemu-io's default (writethrough) would send the second write with FUA too, not followed by a flush.
    await mustRun('qemu-io', ['-t', 'writeback', '-f', 'raw', '-c', 'write -f -P 0x31 4097 5000', '-c', 'write -P 0x32 1000001 70000', '-c', 'flush', url]);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const second = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0'], SERVE_ENV);
    const again = `${nbdUrlOf(second)}/${volumeId}`;
    // The killed process's claim on the volume (15 s TTL) is taken over at once: its holder, a process of this
    // host, no longer runs. The first open after the restart succeeds.
    const out = await mustRun('qemu-io', ['-f', 'raw', '-r', '-c', 'read -P 0x31 4097 5000', '-c', 'read -P 0x32 1000001 70000', '-c', 'read -P 0 0 4097', again]);
    assert.doesNotMatch(out, /Pattern verification failed/, out);
    await second.terminate();
  });

  it('a volume held through a live serve is refused by another serve on the same data dir; once that serve is killed -9 the other opens it at once', async () => {
    const holderServe = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0'], SERVE_ENV);
    const other = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0'], SERVE_ENV);
    const holder = await RawNbdClient.connect(Number(new URL(nbdUrlOf(holderServe)).port));
    await holder.open(volumeId);
    const url = `${nbdUrlOf(other)}/${volumeId}`;
    // A claim of a running process of this host is not taken over, however often asked.
    for (let i = 0; i < 3; i++) {
      const r = await runTool('nbdinfo', [url], 60_000, LIBNBD_DEBUG);
      assert.notEqual(r.code, 0, 'the volume open through the live serve is refused');
      assert.match(r.stderr, new RegExp(`${volumeId} is open by another client`), r.stderr);
    }
    holderServe.child.kill('SIGKILL');
    await new Promise((resolve) => holderServe.child.once('exit', resolve));
    await mustRun('nbdinfo', [url]);
    await other.terminate();
  });

});
