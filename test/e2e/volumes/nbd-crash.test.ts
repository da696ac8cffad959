import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mustRun, nbdToolsMissing } from '../../helpers/nbd-tools.js';
import { SERVE_ENV, dataDirWithAttachedVolume, eventually, killServesAndRemove, nbdUrlOf } from '../../helpers/nbd-serve.js';
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
    // The killed process's claim on the volume lapses after its TTL (15 s): until then the export is refused.
    const out = await eventually(() => mustRun('qemu-io', ['-f', 'raw', '-r', '-c', 'read -P 0x31 4097 5000', '-c', 'read -P 0x32 1000001 70000', '-c', 'read -P 0 0 4097', again]), 25_000);
    assert.doesNotMatch(out, /Pattern verification failed/, out);
    await second.terminate();
  });

});
