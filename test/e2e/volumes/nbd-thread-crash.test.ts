// kill -9 of `strongroom serve` while an NBD client is still connected. The NBD thread (src/protocols/nbd/thread)
// writes the segment files itself and fsyncs them before the chunk map, committed through the main thread, names
// them: what the client flushed survives. (A client that leaves cleanly, as qemu-io does, makes the server close
// and so flush the device itself; here only the client's own FLUSH made its writes durable.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { mustRun, nbdToolsMissing } from '../../helpers/nbd-tools.js';
import { SERVE_ENV, dataDirWithAttachedVolume, killServesAndRemove, nbdUrlOf } from '../../helpers/nbd-serve.js';
import { spawnServe } from '../../helpers/process.js';

const skip = nbdToolsMissing() ?? false;

describe('strongroom serve --nbd-listen killed with -9 under a connected client', { skip }, () => {
  let dataDir: string;
  let volumeId: string;
  before(async () => {
    ({ dataDir, volumeId } = await dataDirWithAttachedVolume());
  });
  after(() => killServesAndRemove(dataDir));

  it('what the still-connected client flushed, across a 16 MiB segment boundary, reads back after the restart', async () => {
    const first = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0'], SERVE_ENV);
    const client = await RawNbdClient.connect(Number(new URL(nbdUrlOf(first)).port));
    await client.open(volumeId);
    client.request(1, 1n, 3000001, 17000000, { data: Buffer.alloc(17000000, 0x33) }); // NBD_CMD_WRITE, no FUA
    assert.equal((await client.reply()).error, 0);
    client.request(3, 2n, 0, 0); // NBD_CMD_FLUSH
    assert.equal((await client.reply()).error, 0);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    client.destroy();
    const second = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0'], SERVE_ENV);
    const out = await mustRun('qemu-io', ['-f', 'raw', '-r', '-c', 'read -P 0x33 3000001 17000000', '-c', 'read -P 0 0 3000001', '-c', 'read -P 0 20000001 65536', `${nbdUrlOf(second)}/${volumeId}`]);
    assert.doesNotMatch(out, /Pattern verification failed/, out);
    await second.terminate();
  });
});
