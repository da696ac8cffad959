import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { mustRun, nbdToolsMissing } from '../../helpers/nbd-tools.js';
import { ServeProcess, killAll, spawnServe } from '../../helpers/process.js';
import { TEST_CREDENTIALS, startServer } from '../../helpers/server.js';
import { attachedVolume } from '../../helpers/volumes.js';

const skip = nbdToolsMissing() ?? false;
const env = { STRONGROOM_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, STRONGROOM_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };

/** The NBD line of serve's banner. */
function nbdUrlOf(proc: ServeProcess): string {
  const m = /NBD: attached volumes exported on (nbd:\/\/\S+)\/<volume-id>/.exec(proc.stdout());
  assert.ok(m, proc.stdout());
  return m[1]!;
}

/** Tries `fn` until it succeeds (a volume whose last holder was killed is free again after its claim's TTL). */
async function eventually<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(250);
    }
  }
}

describe('strongroom serve --nbd-listen as a process: durability', { skip }, () => {
  let dataDir: string;
  let volumeId: string;
  before(async () => {
    // The volume is made and attached by a server on the data dir that is then stopped; serve takes over.
    const made = await startServer();
    dataDir = made.dataDir;
    volumeId = (await attachedVolume(made)).volumeId;
    await made.stop();
  });
  after(() => {
    killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes acknowledged with FUA or followed by a flush survive kill -9 of the server', async () => {
    const first = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0'], env);
    const url = `${nbdUrlOf(first)}/${volumeId}`;
    await mustRun('qemu-io', ['-f', 'raw', '-c', 'write -f -P 0x31 4097 5000', '-c', 'write -P 0x32 1000001 70000', '-c', 'flush', url]);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const second = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0'], env);
    const again = `${nbdUrlOf(second)}/${volumeId}`;
    // The killed process's claim on the volume lapses after its TTL (15 s): until then the export is refused.
    const out = await eventually(() => mustRun('qemu-io', ['-f', 'raw', '-r', '-c', 'read -P 0x31 4097 5000', '-c', 'read -P 0x32 1000001 70000', '-c', 'read -P 0 0 4097', again]), 25_000);
    assert.doesNotMatch(out, /Pattern verification failed/, out);
    await second.terminate();
  });

});
