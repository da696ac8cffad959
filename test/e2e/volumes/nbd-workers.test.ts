import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { LIBNBD_DEBUG, mustRun, nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { SERVE_ENV, dataDirWithAttachedVolume, eventually, killServesAndRemove, nbdUrlOf } from '../../helpers/nbd-serve.js';
import { spawnServe } from '../../helpers/process.js';

const skip = nbdToolsMissing() ?? false;

describe('strongroom serve --nbd-listen as a process: several workers', { skip }, () => {
  let dataDir: string;
  let volumeId: string;
  before(async () => {
    ({ dataDir, volumeId } = await dataDirWithAttachedVolume());
  });
  after(() => killServesAndRemove(dataDir));

  it('with two workers sharing the NBD port, every connection is served and a second client of an open volume is refused', async () => {
    const proc = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0', '--workers', '2'], SERVE_ENV);
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
