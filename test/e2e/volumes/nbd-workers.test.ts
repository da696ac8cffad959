import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { LIBNBD_DEBUG, mustRun, nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
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

describe('strongroom serve --nbd-listen as a process: several workers', { skip }, () => {
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

  it('with two workers sharing the NBD port, every connection is served and a second client of an open volume is refused', async () => {
    const proc = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0', '--workers', '2'], env);
    const base = nbdUrlOf(proc);
    const url = `${base}/${volumeId}`;
    // Connections alternate between the workers (the primary hands them out round-robin).
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
});
