import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BlockDevice } from '../../../src/core/volumes/block-device.js';
import { CHUNK_BYTES } from '../../../src/core/volumes/chunks.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { SCOPE, openDevice, readAll } from '../../helpers/volumes.js';
import { blobFiles, chunkOf } from './write-behind-patterns.js';

/** Runs write-behind-writer.js in `mode` on a fresh data dir until it prints "ready", then kills it with SIGKILL. */
async function writeAndKill(mode: string): Promise<{ dataDir: string; volumeId: string; out: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-vol-behind-'));
  const child = spawn(process.execPath, [join(import.meta.dirname, 'write-behind-writer.js'), dataDir, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready/m.test(out)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before it was killed: ${err}`)));
  });
  await new Promise((r) => child.once('exit', r));
  return { dataDir, volumeId: /volume (vol-\w+)/.exec(out)![1]!, out };
}

/** Opens the volume once the killed writer's claim (TTL 500 ms) has lapsed. */
async function openAfterCrash(server: TestServer, volumeId: string): Promise<BlockDevice> {
  for (let i = 0; ; i++) {
    try {
      return await openDevice(server, volumeId);
    } catch (e) {
      if (i > 40) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Reads chunks [first, first+count) in 1 MiB reads and checks each against expected(index) (a read that fails authentication throws). */
async function expectChunks(dev: BlockDevice, first: number, count: number, expected: (index: number) => Buffer, what: string): Promise<void> {
  for (let i = first; i < first + count; i += 16) {
    const n = Math.min(16, first + count - i);
    const got = await readAll(dev, i * CHUNK_BYTES, n * CHUNK_BYTES);
    for (let k = 0; k < n; k++) {
      assert.ok(got.subarray(k * CHUNK_BYTES, (k + 1) * CHUNK_BYTES).equals(expected(i + k)), `chunk ${i + k}: not ${what}`);
    }
  }
}

const ZERO = Buffer.alloc(CHUNK_BYTES);

describe('Volumes written behind: kill -9 between a segment write and the flush that commits it', () => {
  const servers: TestServer[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('the restarted server reads exactly the last flush, and removes the segment files the crash left written but never committed when the volume is opened', async () => {
    const { dataDir, volumeId, out } = await writeAndKill('unflushed');
    dirs.push(dataDir);
    assert.match(out, /^ready [5-9]/m);
    const server = await startServer({ dataDir });
    servers.push(server);
    const store = server.app.volumes.store;
    const orphans = await store.orphanSegments(volumeId);
    const files = blobFiles(dataDir);
    assert.ok(orphans.length >= 5, `${orphans.length} segments written and never committed`);
    for (const id of orphans) assert.ok(files.includes(id), `segment ${id} was written out (its file is in place)`);

    const dev = await openAfterCrash(server, volumeId);
    assert.deepEqual(await store.orphanSegments(volumeId), [], 'the crash\'s segments forgotten');
    const left = blobFiles(dataDir);
    for (const id of orphans) assert.ok(!left.includes(id), `segment file ${id} removed`);
    const referenced = [...new Set((await store.chunks(volumeId)).map((r) => r.blobId))].sort();
    assert.deepEqual(left, referenced, 'no blob file but the committed segments');
    assert.equal(left.length, files.length - orphans.length);

    // The state of the flush: 'A' in chunks 0..767, never written beyond. Nothing of the unflushed 'B' writes,
    // which fewer than 32 segments and no flush never committed; no chunk mixed, none failing authentication.
    await expectChunks(dev, 0, 768, (i) => chunkOf('A', i), 'as flushed');
    await expectChunks(dev, 768, 512, () => ZERO, 'zeroes (never flushed)');
    assert.ok((await readAll(dev, 2000 * CHUNK_BYTES, CHUNK_BYTES)).equals(ZERO));
    await dev.close();
  });

  it('a volume deleted after the crash without being opened again leaves none of the segment files the crash left uncommitted', async () => {
    const { dataDir, volumeId } = await writeAndKill('unflushed');
    dirs.push(dataDir);
    const server = await startServer({ dataDir });
    servers.push(server);
    const store = server.app.volumes.store;
    const orphans = await store.orphanSegments(volumeId);
    assert.ok(orphans.length >= 5);
    assert.ok(orphans.every((id) => blobFiles(dataDir).includes(id)));
    // DetachVolume then DeleteVolume, as the EC2 operations call them: the volume is never opened again.
    await server.app.volumes.detach(SCOPE, volumeId, { force: true });
    await server.app.volumes.deleteVolume(SCOPE, volumeId);
    assert.deepEqual(blobFiles(dataDir), [], 'no segment file of the deleted volume left, committed or not');
    assert.deepEqual(await store.orphanSegments(volumeId), []);
  });

  it('a flush after more than 32 segments written behind (one commit forced on the way) commits everything, and leaves no segment unreferenced', async () => {
    const { dataDir, volumeId, out } = await writeAndKill('many');
    dirs.push(dataDir);
    const early = Number(/committed before the flush (\d+)/.exec(out)![1]);
    assert.ok(early > 0 && early < 80, `the 32-segment commit ran before the flush (${early} of 80 chunks committed then)`);
    const server = await startServer({ dataDir });
    servers.push(server);
    const store = server.app.volumes.store;
    assert.deepEqual(await store.orphanSegments(volumeId), [], 'every segment written was committed or freed');
    const dev = await openAfterCrash(server, volumeId);
    await expectChunks(dev, 0, 254, () => ZERO, 'zeroed');
    await expectChunks(dev, 1000, 80, (i) => chunkOf('M', i), 'as flushed');
    await expectChunks(dev, 254, 746, () => ZERO, 'never written');
    const referenced = [...new Set((await store.chunks(volumeId)).map((r) => r.blobId))].sort();
    assert.ok(referenced.length > 32, `${referenced.length} segments committed`);
    assert.deepEqual(blobFiles(dataDir), referenced, 'the zeroed chunks\' segment freed, every other one referenced');
    await dev.close();
  });
});
