import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { mustRun, nbdToolsMissing } from '../../helpers/nbd-tools.js';
import { SERVE_ENV, dataDirWithAttachedVolume, eventually, killServesAndRemove, nbdUrlOf } from '../../helpers/nbd-serve.js';
import { spawnServe } from '../../helpers/process.js';
import { blobFiles } from './write-behind-patterns.js';

const skip = nbdToolsMissing() ?? false;
const MiB = 1 << 20;

describe('strongroom serve --nbd-listen as a process: kill -9 with segments written behind and not flushed', { skip }, () => {
  let dataDir: string;
  let volumeId: string;
  let tmp: string;
  let client: ChildProcess | undefined;
  before(async () => {
    ({ dataDir, volumeId } = await dataDirWithAttachedVolume());
    tmp = mkdtempSync(join(tmpdir(), 'sr-nbd-behind-'));
  });
  after(() => {
    client?.kill('SIGKILL');
    killServesAndRemove(dataDir);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the restarted server serves exactly the last flush, and the segment files the crash left uncommitted are removed when the volume is opened', async () => {
    const flushed = randomBytes(48 * MiB); // 3 segments
    const unflushed = randomBytes(80 * MiB); // 5 segments over them and past them
    writeFileSync(join(tmp, 'flushed'), flushed);
    writeFileSync(join(tmp, 'unflushed'), unflushed);
    const first = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0'], SERVE_ENV);
    const url = `${nbdUrlOf(first)}/${volumeId}`;
    await mustRun('qemu-io', ['-f', 'raw', '-c', `write -s ${join(tmp, 'flushed')} 0 ${flushed.length}`, '-c', 'flush', url], 120_000);
    const committed = blobFiles(dataDir);

    // A client that writes and then stays connected without flushing (a close would flush).
    // stdbuf: qemu-io's stdout is block-buffered into a pipe, and its "wrote" line would wait there. Writeback:
    // qemu-io's default (writethrough) sends every write with FUA, which commits it at once.
    client = spawn('stdbuf', ['-oL', 'qemu-io', '-t', 'writeback', '-f', 'raw', '-c', `write -s ${join(tmp, 'unflushed')} 0 ${unflushed.length}`, '-c', 'sleep 600000', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    client.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const incoming = join(dataDir, 'blobs', '.incoming');
    for (let i = 0; ; i++) {
      // Acknowledged, and written behind: five new segment files in place, none still being written.
      if (out.includes(`wrote ${unflushed.length}/${unflushed.length}`) && blobFiles(dataDir).length >= committed.length + 5 && readdirSync(incoming).length === 0) break;
      if (i > 1200) throw new Error(`the writes were not written behind: ${out}; ${blobFiles(dataDir).length - committed.length} new segment files`);
      await sleep(50);
    }
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    client.kill('SIGKILL');
    const crashed = blobFiles(dataDir);
    assert.equal(crashed.length, committed.length + 5);

    const second = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0'], SERVE_ENV);
    const again = `${nbdUrlOf(second)}/${volumeId}`;
    // The killed process's claim on the volume lapses after its TTL (15 s): until then the export is refused.
    await eventually(() => mustRun('qemu-io', ['-f', 'raw', '-r', '-c', 'read 0 1', again]), 25_000);
    assert.deepEqual(blobFiles(dataDir), committed, 'the five uncommitted segment files removed at the open, the committed ones kept');
    const back = join(tmp, 'back');
    await mustRun('sh', ['-c', `nbdcopy '${again}' - | head -c ${unflushed.length} > '${back}'`], 120_000);
    const got = readFileSync(back);
    assert.equal(got.length, unflushed.length);
    assert.ok(got.subarray(0, flushed.length).equals(flushed), 'the flushed bytes, none of the unflushed ones');
    assert.ok(got.subarray(flushed.length).equals(Buffer.alloc(unflushed.length - flushed.length)), 'never flushed: zeroes');
    await second.terminate();
  });
});
